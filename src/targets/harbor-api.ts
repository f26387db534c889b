import { PackpubError } from '../errors.js';
import type { AuthSession } from '../registry/auth/session.js';
import { errorFromResponse, mangledRobotHint, parseOciErrors, readBounded, readErrorBody, type RegistryError } from '../registry/errors.js';
import { discardBody, getHeader, type HttpMethod, type HttpResponse, type HttpTransport } from '../registry/http.js';
import type { RegistryStack } from '../registry/stack.js';
import { parseNextLink } from '../registry/urls.js';
import { deletedByEarlierAttempt } from '../registry/retry.js';
import { redactText } from '../util/redact.js';

/*
 * The few Harbor REST API v2.0 calls a pack publisher needs (registries.md, "Harbor"): project lookup and
 * creation, repository listing (`/v2/_catalog` is admin-only), and deleting a tag or an artifact. Same host, TLS and --resolve settings
 * as the registry: it reuses the registry's transport. Basic credentials come from the same provider.
 */

export type ProjectState = 'exists' | 'missing' | 'unknown';

/** A project as Harbor describes it (the fields read here). */
interface HarborProjectDoc {
  name?: unknown;
  project_id?: unknown;
  registry_id?: unknown;
}

/** What the project look-up found: its state, whether it is a proxy cache (`registry_id` > 0), and its id. */
export interface ProjectFound {
  state: ProjectState;
  proxyCache: boolean;
  id?: number;
}

function found(doc: HarborProjectDoc): ProjectFound {
  return {
    state: 'exists',
    proxyCache: typeof doc.registry_id === 'number' && doc.registry_id > 0,
    ...(typeof doc.project_id === 'number' ? { id: doc.project_id } : {}),
  };
}

/** What GET /systeminfo told these credentials (HarborApi.systemInfo). */
export interface SystemInfo {
  authMode?: string;
  /** The protected fields came: Harbor took the credentials. */
  signedIn: boolean;
  readOnly?: boolean;
  /** project_creation_restriction: "everyone" or "adminonly" (signed-in users only). */
  projectCreation?: string;
}

/** How long a systeminfo answer (auth mode, read-only mode) is taken as current. */
const SYSTEM_INFO_TTL_MS = 60_000;
/** Harbor caps page_size at 100. */
const PAGE_SIZE = 100;
const MAX_PAGES = 10_000;
/** A page of 100 repositories is a few KiB; more than this is not Harbor's answer. */
const PAGE_BYTES = 4 * 1024 * 1024;
const LIST_HINT = 'Harbor (or something in front of it) did not answer with its repositories API; check the registry host and report it to the registry owner';

/** A read of a project Harbor does not have (404 "project <p> not found", or its registry's denial there): said as such. */
export function missingProject(project: string, host: string): PackpubError {
  return new PackpubError('NOT_FOUND', `project ${project} does not exist on ${host}`, {
    hint: `the first segment of the base path is the Harbor project; check it, or create "${project}" (push --create-project)`,
  });
}

/**
 * A 404 without Harbor's error body from its REST API: the registry is not Harbor (`--registry-type harbor` forced on a
 * plain registry), or a proxy in front of it does not pass /api/ on. It read "project <p> does not exist; create it or
 * pass --create-project", for a registry that has no projects.
 */
function notHarbor(host: string, request: string): PackpubError {
  return new PackpubError('REGISTRY', `${host} does not answer as Harbor: ${request} answered 404 without Harbor's error (NOT_FOUND), so there is no Harbor project API there`, {
    hint: 'drop --registry-type harbor (type: harbor in packpub.yaml) if it is not Harbor: packpub recognises Harbor by GET /api/v2.0/systeminfo; behind a proxy, check that it passes /api/ on to Harbor',
  });
}

export const READ_ONLY_HINT =
  'a Harbor administrator turned it on (Configuration > System Settings > Repository Read Only, e.g. during an upgrade or a garbage collection); run again once it is off. Nothing was written';

/**
 * A dry run's word for read-only mode, read from systeminfo before any write: the real run's first write would be
 * refused (harborWriteRefusal), while one that writes nothing (an unchanged version) still succeeds.
 */
export function readOnlyMode(host: string): PackpubError {
  return new PackpubError('REGISTRY', `${host} is in read-only mode (GET /api/v2.0/systeminfo says "read_only": true): a real run would be refused its first write`, { hint: READ_ONLY_HINT });
}

/**
 * Harbor's 403 DENIED answers to a write that are no matter of rights (read in Harbor's source: server/middleware/
 * readonly and repoproxy): read-only mode, which an administrator turns on for upgrades, migrations or garbage
 * collection, refuses every POST/PUT/PATCH/DELETE of the registry and the API; a proxy cache project refuses blob
 * uploads and manifest PUTs. Said as such, not as a refused login or a missing permission.
 */
export function harborWriteRefusal(message: string | undefined, host: string, project: string): PackpubError | undefined {
  if (message === undefined) return undefined;
  if (/read only mode/i.test(message)) {
    return new PackpubError('REGISTRY', `${host} is in read-only mode: Harbor answered "${redactText(message.slice(0, 200))}"`, { hint: READ_ONLY_HINT });
  }
  if (/proxy project/i.test(message)) return proxyCacheProject(project, host);
  return undefined;
}

/** Harbor refusing to delete a tag an immutable tag rule protects (412). */
export function immutableDeleteRefusal(what: string, project: string): PackpubError {
  return new PackpubError('CONFLICT', `${what} is protected by an immutable tag rule of project ${project}: Harbor does not delete it`, {
    hint: 'ask a Harbor project admin to change the tag immutability rule, or keep this version',
  });
}

/** A push into a proxy cache project: Harbor fills it from the registry it mirrors, never from a push. */
export function proxyCacheProject(project: string, host: string): PackpubError {
  return new PackpubError('REGISTRY', `project ${project} on ${host} is a proxy cache project: Harbor takes no push into it`, {
    hint: `give a base path whose first segment is a regular project (not a proxy cache of another registry); a Harbor project admin can create one, or pass --create-project with a new name`,
  });
}

export class HarborApi {
  /** `host[:port]` of Harbor (registry and API share it). */
  readonly host: string;
  /** The registry's transport under its retry policy (429, 5xx, resets), so REST calls behave like registry calls. */
  private readonly transport: HttpTransport;
  /** The registry's auth session: same credentials, same rules on where they may be sent. */
  private readonly session: AuthSession;
  /** --retry-deadline: a page of the repository list must arrive whole within it. */
  private readonly deadlineMs: number;

  constructor(stack: RegistryStack) {
    this.host = stack.host;
    this.transport = stack.rest;
    this.session = stack.auth;
    this.deadlineMs = stack.retry.deadlineMs;
  }

  /** Harbor's API takes Basic up front (no challenge round trip); robot names `robot$p+n` go as they are. */
  private async authHeader(url: URL): Promise<Record<string, string>> {
    const header = await this.session.basicHeader(url);
    return header === undefined ? {} : { authorization: header };
  }

  private url(path: string): URL {
    return new URL(`${this.transport.origin(this.host)}/api/v2.0${path}`);
  }

  /** One REST call, retried on 429 / 5xx / resets; any other status is returned to the caller. */
  private async call(method: HttpMethod, url: URL, body?: unknown): Promise<HttpResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const headers: Record<string, string> = {
      accept: 'application/json',
      // GET /projects/{project_name_or_id}: a name made of digits would be read as an id without this.
      'x-is-resource-name': 'true',
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...(await this.authHeader(url)),
    };
    const res = await this.transport.request({ method, url, headers, ...(payload === undefined ? {} : { body: payload }) });
    // A credential helper that could not answer (3ccaa68: anonymous until asked): Harbor asking for credentials gets its
    // error, as the registry's 401 does; `list` said "authentication required ... pass --username" instead.
    const unanswered = this.session.unansweredError;
    if (unanswered !== undefined && headers['authorization'] === undefined && (res.status === 401 || res.status === 403)) {
      await discardBody(res);
      throw unanswered;
    }
    return res;
  }

  private async fail(res: HttpResponse, method: string, what: string): Promise<RegistryError> {
    // Bounded in time as every error body is (readErrorBody: what arrived within 1 s): a body dripping in a byte at a
    // time never trips the per-chunk timeout, and held the push for as long as its 64 KiB took.
    const bytes = await readErrorBody(res.body);
    return errorFromResponse({ method, url: res.url, status: res.status, host: this.host, body: bytes, subject: what });
  }

  /**
   * Whether a project exists. 'unknown' when Harbor will not say to these credentials (403, or 401 without
   * credentials): the push then tells the user what is missing. A 401 to credentials we sent is an error.
   */
  async projectState(project: string): Promise<ProjectState> {
    return (await this.project(project)).state;
  }

  /**
   * projectState, and whether the project is a proxy cache (Harbor's project model: `registry_id` > 0, the registry
   * it mirrors; omitted for a regular project), into which Harbor takes no push.
   */
  async project(project: string): Promise<ProjectFound> {
    const url = this.url(`/projects/${encodeURIComponent(project)}`);
    const res = await this.call('GET', url);
    if (![200, 401, 403, 404].includes(res.status)) throw await this.fail(res, 'GET', `project ${project}`);
    if (res.status === 200) {
      // What arrived within a second (readErrorBody's bound): a project is a few hundred bytes; an answer that is not
      // Harbor's project (unreadable, cut off) says nothing of a proxy cache, and the registry then says it.
      let doc: unknown;
      try {
        doc = JSON.parse((await readErrorBody(res.body)).toString('utf8'));
      } catch {
        doc = undefined;
      }
      return found(typeof doc === 'object' && doc !== null ? (doc as HarborProjectDoc) : {});
    }
    if (res.status === 404) {
      if (!(await this.harborNotFound(res))) throw notHarbor(this.host, `GET /api/v2.0/projects/${project}`);
      return { state: 'missing', proxyCache: false };
    }
    await discardBody(res);
    if (res.status === 401 && (await this.authHeader(url))['authorization'] !== undefined) {
      // An OIDC user's CLI secret is refused here, and is good: every push of such a user read "credentials rejected".
      if (await this.oidcPathRefusal()) return this.projectListed(project);
      throw await this.rejected();
    }
    // Harbor answers a project it cannot find 404 to a system admin only, and 403 to any other signed-in user (its
    // RequireProjectAccess finds no permission on it). HEAD /projects?project_name= tells any signed-in user (200 / 404).
    if (res.status === 403) return { state: await this.projectNamed(project), proxyCache: false };
    return { state: 'unknown', proxyCache: false };
  }

  /**
   * Whether a 404 is Harbor's own (its error body, code NOT_FOUND: "project <p> not found"), not a web server's or a
   * plain registry's page (`--registry-type harbor` forced on a registry that is not Harbor). The body is consumed.
   */
  private async harborNotFound(res: HttpResponse): Promise<boolean> {
    return parseOciErrors(await readErrorBody(res.body)).some((e) => e.code === 'NOT_FOUND');
  }

  /** systeminfo as these credentials get it, and when it was asked (systemInfo). */
  private info: { at: number; answer: Promise<SystemInfo | undefined> } | undefined;

  /**
   * GET /systeminfo: `auth_mode` (given to anyone) and, to signed-in users only, the "protected" fields
   * (server/v2.0/handler/systeminfo.go): their presence says the credentials were taken, `read_only` is read-only
   * mode. Undefined when Harbor does not answer it. Asked again after SYSTEM_INFO_TTL_MS: a store a library keeps
   * open sees read-only mode end.
   */
  systemInfo(): Promise<SystemInfo | undefined> {
    if (this.info !== undefined && Date.now() - this.info.at < SYSTEM_INFO_TTL_MS) return this.info.answer;
    const answer = (async () => {
      const res = await this.call('GET', this.url('/systeminfo'));
      if (res.status !== 200) {
        await discardBody(res);
        return undefined;
      }
      const doc = JSON.parse((await readErrorBody(res.body)).toString('utf8')) as Record<string, unknown> | null;
      if (typeof doc !== 'object' || doc === null) return undefined;
      const mode = doc['auth_mode'];
      const flag = doc['read_only'];
      const creation = doc['project_creation_restriction'];
      return {
        ...(typeof mode === 'string' ? { authMode: mode } : {}),
        ...(typeof creation === 'string' ? { projectCreation: creation } : {}),
        signedIn: 'harbor_version' in doc || 'read_only' in doc || 'current_time' in doc,
        ...(typeof flag === 'boolean' ? { readOnly: flag } : {}),
      };
    })().catch(() => undefined);
    this.info = { at: Date.now(), answer };
    return answer;
  }

  /** Whether Harbor is in read-only mode (systeminfo's `read_only`, signed-in users only); undefined when it does not say. */
  async readOnly(): Promise<boolean | undefined> {
    return (await this.systemInfo())?.readOnly;
  }

  /**
   * Whether a 401 to credentials we sent is Harbor in OIDC mode refusing a user's CLI secret on an API path it does not
   * take it on (server/middleware/security/oidc_cli.go: the registry, the token service, and only a few API calls, such
   * as listing projects or repositories, creating a project, deleting a tag; not reading one project or deleting an
   * artifact), while the credentials are good (systeminfo answers them its protected fields). Robots are not concerned.
   */
  private async oidcPathRefusal(): Promise<boolean> {
    const info = await this.systemInfo();
    if (info?.authMode !== 'oidc_auth' || !info.signedIn) return false;
    return (await this.session.getCredential()).username?.startsWith('robot$') !== true;
  }

  /**
   * A project found in the project list (GET /projects?q=name=<p>, which Harbor takes an OIDC user's CLI secret on):
   * listed, or not (the list holds every project the user may see).
   */
  private async projectListed(project: string): Promise<ProjectFound> {
    const doc = await this.getJson(this.url(`/projects?q=${encodeURIComponent(`name=${project}`)}&page_size=10`));
    const listed = Array.isArray(doc) ? (doc as HarborProjectDoc[]).find((p) => typeof p === 'object' && p !== null && p.name === project) : undefined;
    if (listed === undefined) return { state: Array.isArray(doc) ? 'missing' : 'unknown', proxyCache: false };
    return found(listed);
  }

  /**
   * Whether these credentials may push into the project `id`: Harbor's GET /users/current/permissions for the project's
   * scope (any signed-in user or robot: server/v2.0/handler/user.go) lists `repository` `push` when they may. Undefined
   * when Harbor does not say (an OIDC CLI secret is anonymous there, an older Harbor, an error).
   */
  async canPush(id: number): Promise<boolean | undefined> {
    return this.mayAny(id, [['repository', 'push']]);
  }

  /**
   * Whether these credentials may delete anything in the project `id`: the list names `artifact` `delete` (Harbor's
   * DeleteArtifact) or `tag` `delete` (DeleteTag), as a Maintainer's or a robot's with those permissions does; a
   * Developer's or a pull/push robot's names neither. Undefined when Harbor does not say (as canPush).
   */
  async canDelete(id: number): Promise<boolean | undefined> {
    // A real delete is refused on this answer: a list naming no `repository` resource (not the relative shape read here,
    // or no access at all, which the delete's own 403 says) tells nothing.
    return this.mayAny(id, [['artifact', 'delete'], ['tag', 'delete']], 'repository');
  }

  /** GET /users/current/permissions of the project's scope: whether it lists one of these resource/action pairs. */
  private async mayAny(id: number, pairs: ReadonlyArray<readonly [string, string]>, shownResource?: string): Promise<boolean | undefined> {
    const doc = await this.getJson(this.url(`/users/current/permissions?scope=${encodeURIComponent(`/project/${id}`)}&relative=true`));
    if (!Array.isArray(doc)) return undefined;
    const listed = (doc as Array<{ resource?: unknown; action?: unknown }>).filter((p) => typeof p === 'object' && p !== null);
    if (shownResource !== undefined && !listed.some((p) => p.resource === shownResource)) return undefined;
    return listed.some((p) => pairs.some(([resource, action]) => p.resource === resource && p.action === action));
  }

  /** A GET answered 200 with JSON (read within --retry-deadline, at most PAGE_BYTES): the document; else undefined. */
  private async getJson(url: URL): Promise<unknown> {
    const res = await this.call('GET', url);
    if (res.status !== 200) {
      await discardBody(res);
      return undefined;
    }
    try {
      return JSON.parse((await readBounded(res.body, PAGE_BYTES, { timeoutMs: this.deadlineMs })).toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  /** The credential the registry's session sends (its user name for messages; never the secret). */
  credential(): Promise<{ username?: string }> {
    return this.session.getCredential();
  }

  /** HEAD /projects?project_name=<name>: 'exists' (200), 'missing' (404), else 'unknown'. */
  private async projectNamed(project: string): Promise<ProjectState> {
    const url = this.url(`/projects?project_name=${encodeURIComponent(project)}`);
    const res = await this.call('HEAD', url);
    await discardBody(res);
    return res.status === 200 ? 'exists' : res.status === 404 ? 'missing' : 'unknown';
  }

  /** A write's 401/403 that is Harbor's read-only mode (or a proxy cache project), read from its body; the body is consumed. */
  private async writeRefusal(res: HttpResponse, project: string): Promise<PackpubError | undefined> {
    const first = parseOciErrors(await readErrorBody(res.body))[0];
    return harborWriteRefusal(first?.message, this.host, project);
  }

  /** A 401 to credentials we sent: the same words every other command uses for wrong credentials. */
  private async rejected(): Promise<PackpubError> {
    const who = await this.session.getCredential();
    // In OIDC mode a user's password is the CLI secret of their Harbor User Profile, not the identity provider's.
    const oidc = (await this.systemInfo())?.authMode === 'oidc_auth' && who.username?.startsWith('robot$') !== true;
    // `robot$packs+ci` unquoted in a shell, a GitLab CI variable or a compose file: `$packs` expands to nothing.
    const mangled = mangledRobotHint(who.username, who.source);
    return new PackpubError('AUTH', `credentials rejected by ${this.host}`, {
      hint:
        mangled ??
        `check the user or robot account name and its secret${who.source === undefined ? '' : ` (they came from ${who.source})`}; ${oidc ? `${this.host} signs users in with OIDC: the password is the CLI secret from your Harbor User Profile, not your identity provider's password; ` : ''}quote robot names in shells: 'robot$project+name'`,
    });
  }

  /** Create a private project; 'exists' when someone else created it meanwhile. */
  async createProject(project: string): Promise<'created' | 'exists'> {
    const res = await this.call('POST', this.url('/projects'), { project_name: project, metadata: { public: 'false' } });
    if (res.status === 201 || res.status === 200) {
      await discardBody(res);
      return 'created';
    }
    if (res.status === 409) {
      await discardBody(res);
      return 'exists';
    }
    if (res.status === 401 || res.status === 403) {
      const refusal = await this.writeRefusal(res, project);
      if (refusal !== undefined) throw refusal;
      const who = await this.session.getCredential();
      const robot = who.username?.startsWith('robot$') === true;
      // systeminfo's project_creation_restriction (signed-in users): "adminonly" lets system admins alone create projects.
      const adminOnly = !robot && (await this.systemInfo())?.projectCreation === 'adminonly';
      // Harbor 2.2+ system robot accounts may create projects when given that permission (rbac ScopeSystem: project create).
      throw new PackpubError('AUTH', `${this.host} refused to create project ${project}${robot ? ' (project robot accounts cannot create projects; a system robot account needs the project create permission)' : adminOnly ? ' (this Harbor lets system admins alone create projects: project_creation_restriction is adminonly)' : ''}`, {
        hint: `create project ${project} in the Harbor UI (or with a user or system robot account allowed to create projects), then push again`,
      });
    }
    throw await this.fail(res, 'POST', `project ${project}`);
  }

  /**
   * Full names (`<project>/<path>`) of the project's repositories, paged with `page`/`page_size` and the
   * `Link: <...>; rel="next"` header (X-Total-Count as a stop when there is no Link). Every answer is
   * checked: a page that is not a list of repositories, a link to another origin or back to a page already
   * read, or a page of nothing new is an error, never a shorter (or endless) list.
   */
  async listRepositories(project: string): Promise<string[]> {
    const what = `repositories of project ${project}`;
    const names: string[] = [];
    const known = new Set<string>();
    const read = new Set<string>();
    let url: URL | undefined = this.url(`/projects/${encodeURIComponent(project)}/repositories?page=1&page_size=${PAGE_SIZE}`);
    for (let page = 1; url !== undefined; page++) {
      if (page > MAX_PAGES) throw new PackpubError('REGISTRY', `${this.host} answered ${what} with more than ${MAX_PAGES} pages`, { hint: LIST_HINT });
      read.add(url.href);
      const res = await this.call('GET', url);
      // Harbor answers 404 "project <p> not found" (to a system admin; other users get 403 there, and HEAD tells them):
      // an empty answer here would read as "no packs".
      if (res.status === 404 && !(await this.harborNotFound(res))) throw notHarbor(this.host, `GET /api/v2.0/projects/${project}/repositories`);
      if (res.status === 404 || (res.status === 403 && page === 1 && (await this.projectNamed(project)) === 'missing')) {
        await discardBody(res);
        throw missingProject(project, this.host);
      }
      if (res.status === 401 && (await this.authHeader(url))['authorization'] !== undefined) {
        await discardBody(res);
        throw await this.rejected();
      }
      if (res.status === 403) {
        // Signed in, but no read permission on the project (not a member of a private project, a robot without the
        // repository list permission): it read "authentication required ... pass --username" to a user who had.
        await discardBody(res);
        const who = await this.session.getCredential();
        throw new PackpubError('AUTH', `${this.host} refused to list the repositories of project ${project}: ${who.username === undefined ? 'it is not public and no credentials were given' : `${who.username} has no read permission on it`}`, {
          hint: `make the account a member of project ${project} (Guest or above), or give the robot account the repository list and pull permissions${who.source === undefined ? '' : ` (credentials from ${who.source})`}`,
        });
      }
      if (res.status !== 200) throw await this.fail(res, 'GET', what);
      const entries = await this.repositoryPage(res, what);
      const before = known.size;
      for (const name of entries) {
        if (known.has(name)) continue;
        known.add(name);
        names.push(name);
      }
      const total = Number(getHeader(res, 'x-total-count'));
      const next = parseNextLink(getHeader(res, 'link'), url, what);
      if (next !== undefined && next.origin !== url.origin) {
        // Following it would read another server's list; stopping would print part of this one.
        throw new PackpubError('REGISTRY', `${this.host} links the next page of ${what} to another origin (${next.origin})`, {
          hint: 'packpub reads pages only from Harbor’s own scheme, host and port; behind a proxy, check the external URL Harbor is configured with',
        });
      }
      const more = next !== undefined || (entries.length === PAGE_SIZE && (!Number.isFinite(total) || names.length < total));
      if (!more) break;
      url = next ?? this.url(`/projects/${encodeURIComponent(project)}/repositories?page=${page + 1}&page_size=${PAGE_SIZE}`);
      if (read.has(url.href) || known.size === before) {
        throw new PackpubError('REGISTRY', `${this.host} pages ${what} in a loop: page ${page} ${read.has(url.href) ? 'links back to a page already read' : 'brings no new repository but asks for more'}`, { hint: LIST_HINT });
      }
    }
    return names;
  }

  /** One page of the repositories API: a JSON list of `{name}`, arriving whole within --retry-deadline. */
  private async repositoryPage(res: HttpResponse, what: string): Promise<string[]> {
    const started = Date.now();
    let bytes: Buffer;
    try {
      bytes = await readBounded(res.body, PAGE_BYTES, { timeoutMs: this.deadlineMs });
    } catch (err) {
      const late = Date.now() - started >= this.deadlineMs;
      throw new PackpubError('NETWORK', late ? `${what} from ${this.host} did not arrive within the retry deadline of ${Math.round(this.deadlineMs / 100) / 10} s` : `${what} from ${this.host} was cut off`, {
        hint: 'Harbor or the network is too slow or stalls; try again, or raise --retry-deadline',
        cause: err,
      });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(bytes.toString('utf8'));
    } catch {
      const type = getHeader(res, 'content-type');
      throw new PackpubError('REGISTRY', `${this.host} answered ${what} with something that is not JSON (${type === undefined ? 'no content type' : redactText(type.slice(0, 80))})`, {
        hint: 'a proxy or login page may stand in front of Harbor’s API; check the registry host, or drop --registry-type harbor if it is not Harbor',
      });
    }
    if (!Array.isArray(doc) || !(doc as unknown[]).every((e) => typeof e === 'object' && e !== null && typeof (e as { name?: unknown }).name === 'string')) {
      throw new PackpubError('REGISTRY', `${this.host} answered ${what} with something that is not a list of repositories`, { hint: LIST_HINT });
    }
    return (doc as { name: string }[]).map((e) => e.name);
  }

  /** `/projects/<p>/repositories/<r>/artifacts/<reference>`: a repository name with `/` is URL-encoded twice (Harbor's rule). */
  private artifactUrl(repository: string, reference: string, tail = ''): URL {
    const slash = repository.indexOf('/');
    const project = repository.slice(0, slash);
    const inProject = encodeURIComponent(encodeURIComponent(repository.slice(slash + 1)));
    return this.url(`/projects/${encodeURIComponent(project)}/repositories/${inProject}/artifacts/${encodeURIComponent(reference)}${tail}`);
  }

  /**
   * Whether Harbor's immutable tag rules protect `tag` of the artifact `digest`: the artifact API's tags with
   * `with_immutable_status=true` (their `immutable`), which anyone with pull permission may read. Undefined when
   * Harbor does not say (another answer, the tag not on that artifact any more).
   */
  async tagImmutable(repository: string, digest: string, tag: string): Promise<boolean | undefined> {
    const url = this.artifactUrl(repository, digest);
    url.search = 'with_tag=true&with_immutable_status=true';
    const doc = await this.getJson(url);
    const tags = typeof doc === 'object' && doc !== null ? (doc as { tags?: unknown }).tags : undefined;
    const found = Array.isArray(tags) ? (tags as Array<{ name?: unknown; immutable?: unknown }>).find((t) => typeof t === 'object' && t !== null && t.name === tag) : undefined;
    return typeof found?.immutable === 'boolean' ? found.immutable : undefined;
  }

  /** Delete an artifact (its manifest and every tag on it); `reference` is its digest or a tag. */
  async deleteArtifact(repository: string, reference: string, what: string): Promise<void> {
    const url = this.artifactUrl(repository, reference);
    await this.deleted(await this.call('DELETE', url), url, repository, what);
  }

  /** Delete one tag of the artifact `reference` (digest); the artifact stays with its other tags. */
  async deleteTag(repository: string, reference: string, tag: string, what: string): Promise<void> {
    const url = this.artifactUrl(repository, reference, `/tags/${encodeURIComponent(tag)}`);
    await this.deleted(await this.call('DELETE', url), url, repository, what);
  }

  /** Harbor's answers to a delete: 200 (or 404 on a retry after a lost answer), or 404 / 401 / 403 (no delete permission) / 412 (immutable tag rule). */
  private async deleted(res: HttpResponse, url: URL, repository: string, what: string): Promise<void> {
    const project = repository.split('/')[0] ?? repository;
    if (res.status === 200) return discardBody(res);
    if (res.status === 404) {
      await discardBody(res);
      // An earlier attempt whose answer was lost did the delete (retry.ts deletedByEarlierAttempt).
      if (deletedByEarlierAttempt(true, res.earlierMayHaveActed === true)) return;
      throw new PackpubError('NOT_FOUND', `${what} is no longer on ${this.host}: deleted meanwhile?`);
    }
    if (res.status === 401 && (await this.authHeader(url))['authorization'] !== undefined) {
      await discardBody(res);
      if (await this.oidcPathRefusal()) {
        throw new PackpubError('AUTH', `${this.host} takes an OIDC user's CLI secret for deleting a tag, not an artifact: ${what} (its last tag) was not deleted`, {
          hint: `delete it with a robot account that has the delete artifact permission on project ${project}, or in the Harbor UI`,
        });
      }
      throw await this.rejected();
    }
    if (res.status === 401 || res.status === 403) {
      const refusal = await this.writeRefusal(res, project);
      if (refusal !== undefined) throw refusal;
      throw new PackpubError('AUTH', `${this.host} refused to delete ${what}: no delete permission on project ${project}`, {
        hint: `deleting needs the Maintainer or Project Admin role on project ${project}, or a robot account with the delete artifact and delete tag permissions`,
      });
    }
    if (res.status === 412) {
      await discardBody(res);
      throw immutableDeleteRefusal(what, project);
    }
    throw await this.fail(res, 'DELETE', what);
  }
}
