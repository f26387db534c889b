import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { registryAdmin } from './registry-admin.js';
import { startRegistry, type RegistryOnDisk, type RunningRegistry } from './registry.js';
import { startTokenServer, type TokenServer, type TokenUser } from './token-server.js';
import { drip } from './hostile-registry.js';
import { listenOnLoopback, readBody, sendJson } from './loopback.js';

/*
 * A Harbor stand-in on one loopback host (registries.md, "Harbor"): the Harbor REST API v2.0 endpoints
 * packpub uses, served here, in front of a real distribution registry in token-auth mode whose token
 * service is the Harbor-like test token server (empty-permission tokens for wrong credentials).
 *   GET  /api/v2.0/projects/{name}          200 / 401 (wrong credentials, or anonymous); a missing project: 404 to a
 *                                           system admin only, 403 to other users (Harbor's RequireProjectAccess)
 *   HEAD /api/v2.0/projects?project_name=p  200 / 404 to any signed-in user, 401 anonymous
 *   GET  /api/v2.0/users/current/permissions?scope=/project/<id>   the repository actions the user or robot may take
 *   POST /api/v2.0/projects                 201 / 409; robot accounts get 403, anonymous 401
 *   GET  /api/v2.0/projects/{p}/repositories?page=&page_size=   paged, X-Total-Count, relative Link
 *   GET  /api/v2.0/projects/{p}/repositories/{r}/artifacts/{reference}   digest and tags (`immutable` each with with_immutable_status=true)
 *   DELETE /api/v2.0/projects/{p}/repositories/{r}/artifacts/{reference}             the artifact and its tags
 *   DELETE /api/v2.0/projects/{p}/repositories/{r}/artifacts/{reference}/tags/{tag}   one tag; the artifact stays
 *          ({r} with `/` encoded twice, `a%252Fb`: once-encoded is no route, 404, as Harbor's router answers;
 *          401 anonymous, 403 for a user without the delete action, 412 in a project with an immutable tag rule)
 *   GET  /v2/ with a token issued to wrong credentials          401, as Harbor's core answers it
 *   any registry 401 to a request that carried Authorization     `WWW-Authenticate: Basic realm="harbor"` (v2auth's getChallenge)
 * Registry traffic is proxied with its Host header kept, so upload Locations point back here. Pushes into a
 * project that does not exist are refused as Harbor does. Policy errors (immutable tags, quota, read policies,
 * proxy cache projects, read-only mode: HarborPolicy) can be switched on per test, and
 * `apiQuirk` replaces any API answer (an HTML login page, a body of the wrong shape, a Link loop, a drip).
 */

export interface HarborStandinOptions {
  /** user -> password. Robot accounts are users named `robot$...`. */
  users: Record<string, string | TokenUser>;
  /** Projects that exist from the start. */
  projects?: string[];
  /** System admins (default: the user named `admin`): only they are told 404 for a project that does not exist. */
  admins?: string[];
  /** Largest page the repositories API returns (Harbor: 100), lowered in tests to see several pages. */
  maxPageSize?: number;
  /**
   * Harbor before 2.8: its cosign middleware, after the registry stored a signature under `sha256-<hex>.sig`,
   * looks up the artifact it signs in the same repository and, when that is not there yet, answers the PUT
   * 404 NOT_FOUND instead of the registry's 201 (the manifest stays stored). 2.8+ accepts it.
   */
  signatureNeedsSubject?: boolean;
}

const API = '/api/v2.0';
/** The API calls Harbor takes an OIDC CLI secret on (oidc_cli.go `valid`), besides the registry and the token service. */
function oidcCliPath(method: string, path: string): boolean {
  const p = path.replace(/\/$/, '');
  if (method === 'POST' && p === `${API}/projects`) return true;
  if (method === 'GET' && ([`${API}/projects`, `${API}/systeminfo`, '/api/version', `${API}/labels`].includes(p) || /^\/api\/v2\.0\/projects\/.*\/repositories$/.test(p) || /^\/api\/v2\.0\/projects\/.*\/repositories\/.*\/artifacts$/.test(p))) return true;
  return method === 'DELETE' && /^\/api\/v2\.0\/projects\/.*\/repositories\/.*\/artifacts\/.*\/tags\/.*$/.test(p);
}

export interface HarborPolicy {
  /** Projects with a tag immutability rule matching every tag: re-putting an existing tag -> 412 PRECONDITION. */
  immutableProjects: Set<string>;
  /** Projects over quota: blob and manifest PUTs -> 403 DENIED quota message. */
  overQuotaProjects: Set<string>;
  /** Projects whose signature/vulnerability policy blocks manifest reads -> 412 PROJECTPOLICYVIOLATION. */
  blockedReadProjects: Set<string>;
  /**
   * Proxy cache projects (Harbor's project model has `registry_id` > 0): the project API shows `registry_id`, and
   * blob upload POSTs and manifest PUTs into them answer 403 DENIED "can not push artifact to a proxy project: <p>"
   * (repoproxy.DisableBlobAndManifestUploadMiddleware).
   */
  proxyCacheProjects: Set<string>;
  /**
   * Harbor in read-only mode (System Settings > Repository Read Only): every POST/PUT/PATCH/DELETE, of the registry
   * and of the API, answers 403 DENIED "The system is in read only mode. Any modification is prohibited."
   * (readonly.Middleware, after the credentials are checked); GET and HEAD are served.
   */
  readOnly: boolean;
  /** systeminfo's auth_mode (db_auth unless a test says otherwise). */
  authMode: 'db_auth' | 'oidc_auth';
  /**
   * OIDC users (with authMode oidc_auth): their password is a CLI secret, which Harbor takes on the registry, the token
   * service and only a few API calls (server/middleware/security/oidc_cli.go `valid`); on any other API call they are
   * anonymous.
   */
  oidcUsers: Set<string>;
  /** systeminfo's project_creation_restriction: with adminonly, POST /projects by anyone but an admin answers 403. */
  projectCreation: 'everyone' | 'adminonly';
}

/** An answer that replaces the API's own for one request (fault injection: proxies, login pages, bugs). */
export interface HarborQuirk {
  status: number;
  headers?: Record<string, string>;
  body: string;
  /** Send the body one byte at a time, this many ms apart (a stalling proxy). */
  dripMs?: number;
}

export interface HarborApiRecord {
  method: string;
  path: string;
  user: string | undefined;
  status: number;
}

export interface HarborStandin {
  /** `127.0.0.1:<port>`: registry and API, as one Harbor host. */
  host: string;
  projects: Set<string>;
  /** Repositories with at least one manifest pushed, full names `<project>/<path>`. */
  repositories: Set<string>;
  policy: HarborPolicy;
  apiRequests: HarborApiRecord[];
  /** Policy refusals sent on the registry side: OCI error code and path. */
  refusals: { code: string; path: string }[];
  token: TokenServer;
  registry: RunningRegistry;
  /** When set and it returns an answer, that answer replaces the API's own (after the request is recorded). */
  apiQuirk: ((method: string, path: string, search: string) => HarborQuirk | undefined) | undefined;
  close(): Promise<void>;
}

const REPO_PATH_RE = /^\/v2\/(.+)\/(manifests\/[^/]+|blobs\/uploads(?:\/[^/]*)?|blobs\/[a-z0-9]+:[a-f0-9]+|tags\/list)$/;
const OCI_ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json';

const harborError = (code: string, message: string) => ({ errors: [{ code, message }] });
const READ_ONLY_MESSAGE = 'The system is in read only mode. Any modification is prohibited.';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export async function startHarborStandin(options: HarborStandinOptions): Promise<HarborStandin> {
  const users = new Map<string, string>(Object.entries(options.users).map(([u, v]) => [u, typeof v === 'string' ? v : v.password]));
  const token = await startTokenServer({ users: options.users });
  let registry: RegistryOnDisk;
  try {
    // On disk: deleting one tag (Harbor's DeleteTag) removes its link from the registry's storage.
    registry = await startRegistry({ auth: 'token', token, storage: 'filesystem' });
  } catch (err) {
    await token.close();
    throw err;
  }
  const upstream = new URL(registry.url);
  const projects = new Set(options.projects ?? []);
  const repositories = new Set<string>();
  const policy: HarborPolicy = { immutableProjects: new Set(), overQuotaProjects: new Set(), blockedReadProjects: new Set(), proxyCacheProjects: new Set(), readOnly: false, authMode: 'db_auth', oidcUsers: new Set(), projectCreation: 'everyone' };
  const apiRequests: HarborApiRecord[] = [];
  const refusals: { code: string; path: string }[] = [];
  const refuse = (res: ServerResponse, status: number, code: string, message: string, path: string, headers: Record<string, string> = {}) => {
    refusals.push({ code, path });
    sendJson(res, status, harborError(code, message), headers);
  };
  const maxPageSize = Math.min(options.maxPageSize ?? 100, 100);
  const admins = new Set(options.admins ?? ['admin']);
  const admin = registryAdmin(registry, (repo) => `Bearer ${token.adminToken(repo)}`);

  /** The artifact API's deletes (Harbor's artifactAPI.DeleteArtifact / DeleteTag). */
  const deleteArtifact = async (user: string | undefined, m: RegExpExecArray, answer: (status: number, body?: unknown) => void) => {
    const [, rawProject = '', rawRepo = '', rawRef = '', rawTag] = m;
    if (/%2f/i.test(rawRepo)) return answer(404, harborError('NOT_FOUND', 'no route: encode "/" in the repository name twice (%252F)'));
    if (user === undefined) return answer(401, harborError('UNAUTHORIZED', 'unauthorized'));
    const project = decodeURIComponent(rawProject);
    if (!projects.has(project)) return answer(404, harborError('NOT_FOUND', `project ${project} not found`));
    const rights = options.users[user];
    if (typeof rights === 'object' && rights.actions !== undefined && !rights.actions.includes('delete')) return answer(403, harborError('FORBIDDEN', 'forbidden'));
    const repo = `${project}/${decodeURIComponent(decodeURIComponent(rawRepo))}`;
    const reference = decodeURIComponent(rawRef);
    const digest = await admin.digestOf(repo, reference);
    if (digest === undefined) return answer(404, harborError('NOT_FOUND', `artifact ${repo}@${reference} not found`));
    const tags = await admin.tagsOf(repo, digest);
    if (rawTag !== undefined) {
      const tag = decodeURIComponent(rawTag);
      if (!tags.includes(tag)) return answer(404, harborError('NOT_FOUND', `tag ${tag} attached to artifact ${digest} not found`));
      if (policy.immutableProjects.has(project)) return answer(412, harborError('PRECONDITION', `the tag ${tag} configured as immutable, cannot be deleted`));
      await admin.untag(repo, tag);
      return answer(200);
    }
    if (policy.immutableProjects.has(project) && tags.length > 0) return answer(412, harborError('PRECONDITION', `the tag ${tags[0] ?? ''} configured as immutable, cannot be deleted`));
    await admin.deleteManifest(repo, digest);
    return answer(200);
  };

  /**
   * The artifact API's read (Harbor's artifactAPI.GetArtifact): its digest and tags; with `with_immutable_status=true`
   * each tag's `immutable` (every tag in a project of immutableProjects), else `immutable: false` (x-omitempty false).
   */
  const getArtifact = async (user: string | undefined, m: RegExpExecArray, query: URLSearchParams, answer: (status: number, body?: unknown) => void) => {
    const [, rawProject = '', rawRepo = '', rawRef = ''] = m;
    if (/%2f/i.test(rawRepo)) return answer(404, harborError('NOT_FOUND', 'no route: encode "/" in the repository name twice (%252F)'));
    if (user === undefined) return answer(401, harborError('UNAUTHORIZED', 'unauthorized'));
    const project = decodeURIComponent(rawProject);
    if (!projects.has(project)) return answer(admins.has(user) ? 404 : 403, harborError(admins.has(user) ? 'NOT_FOUND' : 'FORBIDDEN', admins.has(user) ? `project ${project} not found` : 'forbidden'));
    const rights = options.users[user];
    if (typeof rights === 'object' && rights.actions !== undefined && !rights.actions.includes('pull')) return answer(403, harborError('FORBIDDEN', 'forbidden'));
    const repo = `${project}/${decodeURIComponent(decodeURIComponent(rawRepo))}`;
    const digest = await admin.digestOf(repo, decodeURIComponent(rawRef));
    if (digest === undefined) return answer(404, harborError('NOT_FOUND', `artifact ${repo}@${decodeURIComponent(rawRef)} not found`));
    const immutable = query.get('with_immutable_status') === 'true' && policy.immutableProjects.has(project);
    const tags = query.get('with_tag') === 'false' ? [] : (await admin.tagsOf(repo, digest)).map((name) => ({ name, immutable }));
    return answer(200, { digest, media_type: 'application/vnd.oci.image.manifest.v1+json', tags });
  };

  /** The Basic user, 'invalid' for wrong credentials, undefined for anonymous. */
  const basicUser = (req: IncomingMessage): string | 'invalid' | undefined => {
    const auth = req.headers['authorization'];
    if (auth === undefined || !/^basic /i.test(auth)) return undefined;
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    return colon > 0 && users.get(user) === decoded.slice(colon + 1) ? user : 'invalid';
  };

  const oidcUser = (user: string | undefined): boolean => policy.authMode === 'oidc_auth' && user !== undefined && policy.oidcUsers.has(user);
  const api = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const method = req.method ?? 'GET';
    const signedIn = basicUser(req);
    // An OIDC user's CLI secret off the paths Harbor takes it on: no security context, so anonymous. Wrong credentials
    // are anonymous too where the answer does not need a user (systeminfo): Harbor's security middleware refuses nothing.
    const user = oidcUser(signedIn) && !oidcCliPath(method, url.pathname) ? undefined : signedIn === 'invalid' && url.pathname === `${API}/systeminfo` ? undefined : signedIn;
    const answer = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      apiRequests.push({ method, path: `${url.pathname}${url.search}`, user: user === 'invalid' ? undefined : user, status });
      sendJson(res, status, body, headers);
    };
    const body = await readBody(req);
    const quirk = standin.apiQuirk?.(method, url.pathname, url.search);
    if (quirk !== undefined) {
      apiRequests.push({ method, path: `${url.pathname}${url.search}`, user: user === 'invalid' ? undefined : user, status: quirk.status });
      return sendQuirk(res, quirk);
    }
    if (user === 'invalid') return answer(401, harborError('UNAUTHORIZED', 'unauthorized'));
    if (policy.readOnly && !SAFE_METHODS.has(method)) return answer(403, harborError('DENIED', READ_ONLY_MESSAGE));
    const path = url.pathname.slice('/api/v2.0'.length);
    // Harbor answers systeminfo to anyone (packpub recognises Harbor by it without --registry-type), but since 2.13 its
    // version and the other "protected" fields only to a signed-in user (goharbor/harbor#21672).
    if (path === '/systeminfo' && method === 'GET') {
      const general = { auth_mode: policy.authMode, primary_auth_mode: false, self_registration: false, banner_message: '' };
      return answer(200, user === undefined ? general : { ...general, harbor_version: 'v2.13.1-standin', read_only: policy.readOnly, project_creation_restriction: policy.projectCreation });
    }
    if (path === '/users/current/permissions' && method === 'GET') {
      // GetCurrentUserPermissions (any signed-in user or robot): what it may do in the scope, relative to it. Users with
      // an `actions` list may do those on repositories; others everything. `delete` is Harbor's delete of artifacts
      // (DeleteArtifact) and tags (DeleteTag) too, which the artifact API's deletes here take it for.
      if (user === undefined) return answer(401, harborError('UNAUTHORIZED', 'unauthorized'));
      const rights = options.users[user];
      const actions = typeof rights === 'object' && rights.actions !== undefined ? rights.actions : ['pull', 'push', 'delete'];
      const deletes = actions.includes('delete') ? [{ resource: 'artifact', action: 'delete' }, { resource: 'tag', action: 'delete' }] : [];
      return answer(200, [{ resource: 'repository', action: 'list' }, ...actions.map((action) => ({ resource: 'repository', action })), ...deletes]);
    }
    if (path === '/projects' && method === 'HEAD') {
      // HeadProject: any signed-in user (RequireAuthenticated), 200 or 404.
      if (user === undefined) return answer(401, harborError('UNAUTHORIZED', 'unauthorized'));
      return answer(projects.has(url.searchParams.get('project_name') ?? '') ? 200 : 404);
    }
    if (path === '/projects' && method === 'GET') {
      // ListProjects: `q=name=<p>` exact, `name=<p>` fuzzy; anonymous sees public projects only (here none are).
      const exact = /^name=([^,]+)$/.exec(url.searchParams.get('q') ?? '')?.[1];
      const fuzzy = url.searchParams.get('name') ?? undefined;
      const seen = user === undefined ? [] : [...projects].filter((p) => (exact === undefined || p === exact) && (fuzzy === undefined || p.includes(fuzzy)));
      return answer(200, seen.map((name, i) => ({ project_id: i + 1, name, metadata: { public: 'false' }, ...(policy.proxyCacheProjects.has(name) ? { registry_id: 1 } : {}) })), { 'x-total-count': String(seen.length) });
    }
    if (path === '/projects' && method === 'POST') {
      if (user === undefined) return answer(401, harborError('UNAUTHORIZED', 'unauthorized'));
      if (user.startsWith('robot$') || (policy.projectCreation === 'adminonly' && !admins.has(user))) return answer(403, harborError('FORBIDDEN', 'forbidden'));
      const doc = JSON.parse(body.toString('utf8') || '{}') as { project_name?: string };
      const name = doc.project_name ?? '';
      // pkg/project/manager.go's Create: restrictedNameChars.
      if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name)) return answer(400, harborError('BAD_REQUEST', 'project name is not in lower case or contains illegal characters'));
      if (projects.has(name)) return answer(409, harborError('CONFLICT', `The project named ${name} already exists`));
      projects.add(name);
      return answer(201, undefined, { location: `/api/v2.0/projects/${projects.size}` });
    }
    const artifact = /^\/projects\/([^/]+)\/repositories\/([^/]+)\/artifacts\/([^/]+)(?:\/tags\/([^/]+))?$/.exec(path);
    if (artifact !== null && method === 'DELETE') return deleteArtifact(user, artifact, answer);
    if (artifact !== null && method === 'GET' && artifact[4] === undefined) return getArtifact(user, artifact, url.searchParams, answer);
    const project = /^\/projects\/([^/]+)$/.exec(path);
    if (project !== null && method === 'GET') {
      const name = decodeURIComponent(project[1] ?? '');
      // GetProject's RequireProjectAccess: a project it cannot find is one nobody but a system admin has permission
      // on, so anonymous gets 401, another signed-in user 403, and only an admin reaches the 404.
      if (!projects.has(name)) {
        if (user === undefined) return answer(401, harborError('UNAUTHORIZED', 'unauthorized'));
        if (!admins.has(user)) return answer(403, harborError('FORBIDDEN', 'forbidden'));
        return answer(404, harborError('NOT_FOUND', `project ${name} not found`));
      }
      if (user === undefined) return answer(401, harborError('UNAUTHORIZED', 'unauthorized'));
      // Harbor omits registry_id (0) for a regular project.
      return answer(200, { project_id: 1, name, metadata: { public: 'false' }, ...(policy.proxyCacheProjects.has(name) ? { registry_id: 1 } : {}) });
    }
    const repos = /^\/projects\/([^/]+)\/repositories$/.exec(path);
    if (repos !== null && method === 'GET') {
      const name = decodeURIComponent(repos[1] ?? '');
      if (user === undefined) return answer(401, harborError('UNAUTHORIZED', 'unauthorized'));
      // RequireProjectAccess, as for the project GET: a missing project is 404 to an admin, 403 to other users.
      if (!projects.has(name)) return admins.has(user) ? answer(404, harborError('NOT_FOUND', `project ${name} not found`)) : answer(403, harborError('FORBIDDEN', 'forbidden'));
      // A robot or user without pull permission may not list the project's repositories either.
      const rights = options.users[user];
      if (typeof rights === 'object' && rights.actions !== undefined && !rights.actions.includes('pull')) return answer(403, harborError('FORBIDDEN', 'forbidden'));
      const page = Math.max(1, Number(url.searchParams.get('page') ?? '1'));
      const size = Math.min(maxPageSize, Math.max(1, Number(url.searchParams.get('page_size') ?? '10')));
      const all = [...repositories].filter((r) => r.startsWith(`${name}/`)).sort();
      const items = all.slice((page - 1) * size, page * size).map((r, i) => ({ id: i + 1, name: r, project_id: 1, artifact_count: 1 }));
      const links: string[] = [];
      if (page > 1) links.push(`</api/v2.0/projects/${name}/repositories?page=${page - 1}&page_size=${size}>; rel="prev"`);
      if (page * size < all.length) links.push(`</api/v2.0/projects/${name}/repositories?page=${page + 1}&page_size=${size}>; rel="next"`);
      return answer(200, items, { 'x-total-count': String(all.length), ...(links.length === 0 ? {} : { link: links.join(' , ') }) });
    }
    return answer(404, harborError('NOT_FOUND', `no route for ${method} ${url.pathname}`));
  };

  /** `sub` of a Bearer JWT ('' for anonymous or wrong credentials), undefined without a Bearer header. */
  const bearerSubject = (req: IncomingMessage): string | undefined => {
    const auth = req.headers['authorization'];
    if (auth === undefined || !/^bearer /i.test(auth)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(auth.slice(7).split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string };
      return claims.sub ?? '';
    } catch {
      return '';
    }
  };

  const upstreamHasTag = (repo: string, tag: string, authorization: string | undefined): Promise<boolean> =>
    new Promise((resolve) => {
      const r = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: 'HEAD',
          path: `/v2/${repo}/manifests/${tag}`,
          headers: { accept: OCI_ACCEPT, ...(authorization === undefined ? {} : { authorization }) },
        },
        (up) => {
          up.resume();
          resolve(up.statusCode === 200);
        },
      );
      r.on('error', () => resolve(false));
      r.end();
    });

  /** `instead`: an answer that replaces the registry's, given its status (the registry has acted). */
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer | undefined, onStatus?: (status: number) => void, instead?: (status: number) => Promise<{ status: number; code: string; message: string } | undefined>) => {
    const headers = { ...req.headers, ...(body === undefined ? {} : { 'content-length': String(body.length) }) };
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
      onStatus?.(up.statusCode ?? 502);
      void (async () => {
        const other = await instead?.(up.statusCode ?? 502);
        if (other !== undefined) {
          up.resume();
          return refuse(res, other.status, other.code, other.message, new URL(req.url ?? '/', 'http://harbor').pathname);
        }
        // Harbor's v2auth (getChallenge): a request that carried an Authorization header (an expired token, one without
        // the permission) and is refused gets `Basic realm="harbor"`, not the token service's Bearer challenge.
        const challenged = up.statusCode === 401 && req.headers['authorization'] !== undefined;
        res.writeHead(up.statusCode ?? 502, challenged ? { ...up.headers, 'www-authenticate': 'Basic realm="harbor"' } : up.headers);
        up.pipe(res);
      })();
    });
    out.on('error', (err) => {
      if (!res.headersSent) sendJson(res, 502, harborError('UNKNOWN', err.message));
      else res.destroy();
    });
    if (body !== undefined) out.end(body);
    else req.pipe(out);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://harbor');
    if (url.pathname.startsWith('/api/v2.0/')) return api(req, res, url);
    if (url.pathname === '/v2/' && bearerSubject(req) === '') {
      // Harbor's core answers the ping itself: a token issued to wrong credentials (no subject) is refused,
      // which is why `docker login` fails on a wrong password although the token service answered 200.
      await readBody(req);
      return sendJson(res, 401, harborError('UNAUTHORIZED', 'authentication required'), {
        'www-authenticate': `Bearer realm="${token.realm}",service="${token.service}"`,
      });
    }
    const m = REPO_PATH_RE.exec(url.pathname);
    if (m === null) return forward(req, res, undefined);
    const repo = m[1] ?? '';
    const rest = m[2] ?? '';
    const project = repo.split('/')[0] ?? '';
    const method = req.method ?? 'GET';
    const isManifest = rest.startsWith('manifests/');
    const reference = isManifest ? rest.slice('manifests/'.length) : '';
    // Harbor checks the project before the registry sees the request.
    if (req.headers['authorization'] !== undefined && !projects.has(project)) {
      await readBody(req);
      // v2auth's reqChecker: the project lookup fails before any permission check, answered 401 UNAUTHORIZED with the
      // lookup's words and an empty challenge (getChallenge is not reached).
      return refuse(res, 401, 'UNAUTHORIZED', `project ${project} not found`, url.pathname, { 'www-authenticate': '' });
    }
    if (policy.readOnly && !SAFE_METHODS.has(method) && req.headers['authorization'] !== undefined) {
      await readBody(req);
      return refuse(res, 403, 'DENIED', READ_ONLY_MESSAGE, url.pathname);
    }
    const pushing = (method === 'PUT' && isManifest) || (method === 'POST' && rest.startsWith('blobs/uploads'));
    if (pushing && policy.proxyCacheProjects.has(project) && req.headers['authorization'] !== undefined) {
      await readBody(req);
      return refuse(res, 403, 'DENIED', `can not push artifact to a proxy project: ${project}`, url.pathname);
    }
    if ((method === 'GET' || method === 'HEAD') && isManifest && policy.blockedReadProjects.has(project) && req.headers['authorization'] !== undefined) {
      await readBody(req);
      return refuse(res, 412, 'PROJECTPOLICYVIOLATION', 'The image is not signed by cosign.', url.pathname);
    }
    if (method === 'PUT' && policy.overQuotaProjects.has(project) && req.headers['authorization'] !== undefined) {
      await readBody(req);
      return refuse(
        res,
        403,
        'DENIED',
        'Quota exceeded when processing the request of adding 1.2 KiB of storage resource, which when updated to current usage of 10.0 MiB will exceed the configured upper limit of 10.0 MiB.',
        url.pathname,
      );
    }
    if (method === 'PUT' && isManifest) {
      const body = await readBody(req);
      if (!reference.startsWith('sha256:') && policy.immutableProjects.has(project) && (await upstreamHasTag(repo, reference, req.headers['authorization']))) {
        return refuse(res, 412, 'PRECONDITION', `Failed to process request due to '${repo.slice(project.length + 1)}:${reference}' configured as immutable.`, url.pathname);
      }
      const signs = options.signatureNeedsSubject === true ? /^sha256-([0-9a-f]{64})\.sig$/.exec(reference)?.[1] : undefined;
      return forward(
        req,
        res,
        body,
        (status) => {
          if (status === 201) repositories.add(repo);
        },
        async (status) =>
          status === 201 && signs !== undefined && body.includes('application/vnd.dev.cosign.simplesigning.v1+json') && !(await upstreamHasTag(repo, `sha256:${signs}`, req.headers['authorization']))
            ? { status: 404, code: 'NOT_FOUND', message: `artifact ${repo}@sha256:${signs} not found` }
            : undefined,
      );
    }
    return forward(req, res, undefined);
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  const listening = await listenOnLoopback(server);
  const port = Number(new URL(listening.url).port);
  const standin: HarborStandin = {
    host: `127.0.0.1:${port}`,
    projects,
    repositories,
    policy,
    apiRequests,
    refusals,
    token,
    registry,
    apiQuirk: undefined,
    close: async () => {
      await listening.close();
      await registry.stop();
      await token.close();
    },
  };
  return standin;
}

function sendQuirk(res: ServerResponse, quirk: HarborQuirk): void {
  const bytes = Buffer.from(quirk.body, 'utf8');
  if (quirk.dripMs !== undefined) return drip(res, bytes, quirk.dripMs, quirk.headers ?? {}, quirk.status);
  res.writeHead(quirk.status, { 'content-length': String(bytes.length), ...(quirk.headers ?? {}) });
  res.end(bytes);
}
