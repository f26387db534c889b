import { secretsSuite } from './secrets-commands.suite.js';

secretsSuite('htpasswd');
