// A local Key Vault (secrets only) that the real @azure/keyvault-secrets SecretClient talks to over HTTP:
// the 401 challenge handshake, versions, soft delete, recover and purge, with Key Vault's status codes.
// In memory, optionally persisted to a folder. Not a security boundary: any bearer token is accepted.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

interface SecretVersion {
  version: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
}

interface SecretEntry {
  name: string;
  versions: SecretVersion[]; // oldest first
  deleted?: { deletedDate: number; scheduledPurgeDate: number };
}

export interface KeyVaultEmulatorOptions {
  port?: number;
  hostname?: string;
  /** Folder to persist the vault to; omit for memory only. */
  dataDir?: string;
  retentionDays?: number;
}

export interface InjectedFault {
  method?: string;
  /** Matched against the path, e.g. /^\/secrets\/conn-/ */
  path?: RegExp;
  status: number;
  /** How many matching requests fail (default 1). */
  times?: number;
}

const NAME = /^[0-9a-zA-Z-]{1,127}$/;
const now = () => Math.floor(Date.now() / 1000);

export class KeyVaultEmulator {
  readonly #secrets = new Map<string, SecretEntry>();
  readonly #faults: InjectedFault[] = [];
  #server: Server | undefined;
  #url = '';
  readonly requests: Array<{ method: string; path: string; authorized: boolean }> = [];

  constructor(private readonly options: KeyVaultEmulatorOptions = {}) {
    const file = this.#file();
    if (file && existsSync(file)) {
      for (const entry of JSON.parse(readFileSync(file, 'utf8')) as SecretEntry[])
        this.#secrets.set(entry.name.toLowerCase(), entry);
    }
  }

  get url(): string {
    return this.#url;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => this.#handle(req, res));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new Error(`Port ${this.options.port} is already in use (Key Vault emulator)`)
            : error,
        ),
      );
      server.listen(this.options.port ?? 0, this.options.hostname ?? '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    this.#url = `http://${this.options.hostname ?? '127.0.0.1'}:${port}`;
    return this.#url;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Test hook: the next matching request(s) fail with the given status and a Key Vault error body. */
  injectFault(fault: InjectedFault): void {
    this.#faults.push({ times: 1, ...fault });
  }

  clearFaults(): void {
    this.#faults.length = 0;
  }

  /** Test hook: the expiry (Unix seconds) of a secret's latest version, if it has one. */
  expiryOf(name: string): number | undefined {
    return this.#secrets.get(name.toLowerCase())?.versions.at(-1)?.exp;
  }

  /** Test hook: the names of the secrets that are not deleted. */
  liveNames(): string[] {
    return [...this.#secrets.values()].filter((s) => !s.deleted).map((s) => s.name);
  }

  /** Test hook: every stored value of every secret, live and deleted, to search for leaks or confirm storage. */
  allValues(): string[] {
    return [...this.#secrets.values()].flatMap((s) => s.versions.map((v) => v.value));
  }

  #file(): string | undefined {
    return this.options.dataDir ? join(this.options.dataDir, 'keyvault.json') : undefined;
  }

  #persist(): void {
    const file = this.#file();
    if (!file) return;
    mkdirSync(this.options.dataDir!, { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify([...this.#secrets.values()]), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', this.#url);
      const method = (req.method ?? 'GET').toUpperCase();
      const authorized = /^Bearer\s+\S+/i.test(req.headers.authorization ?? '');
      this.requests.push({ method, path: url.pathname, authorized });
      if (!authorized) {
        // The challenge the SDK's keyVaultAuthenticationPolicy expects before it sends the body.
        return send(
          res,
          401,
          { error: { code: 'Unauthorized', message: 'Request is missing a Bearer or PoP token.' } },
          {
            'www-authenticate':
              'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"',
          },
        );
      }
      const fault = this.#faults.find(
        (f) => (!f.method || f.method === method) && (!f.path || f.path.test(url.pathname)),
      );
      if (fault) {
        fault.times = (fault.times ?? 1) - 1;
        if (fault.times <= 0) this.#faults.splice(this.#faults.indexOf(fault), 1);
        return send(res, fault.status, { error: { code: 'InjectedFault', message: `Injected fault ${fault.status}` } });
      }
      let body: Record<string, unknown> = {};
      try {
        body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        return send(res, 400, { error: { code: 'BadParameter', message: 'The request body is not valid JSON.' } });
      }
      try {
        this.#route(method, url, body, res);
      } catch (error) {
        send(res, 500, { error: { code: 'InternalError', message: (error as Error).message } });
      }
    });
  }

  #route(method: string, url: URL, body: Record<string, unknown>, res: ServerResponse): void {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const [collection, name, sub, action] = parts;
    if (collection === 'secrets') {
      if (!name) return method === 'GET' ? this.#list(res, false) : notAllowed(res);
      if (!NAME.test(name)) return badName(res, name);
      if (method === 'PUT' && sub === undefined) return this.#set(name, body, res);
      if (method === 'DELETE' && sub === undefined) return this.#delete(name, res);
      if (method === 'GET' && sub === 'versions') return this.#listVersions(name, res);
      if (method === 'GET') return this.#get(name, sub, res);
      if (method === 'PATCH') return this.#update(name, sub, body, res);
      return notAllowed(res);
    }
    if (collection === 'deletedsecrets') {
      if (!name) return method === 'GET' ? this.#list(res, true) : notAllowed(res);
      const entry = this.#secrets.get(name.toLowerCase());
      if (!entry?.deleted)
        return send(res, 404, { error: { code: 'SecretNotFound', message: `Deleted Secret not found: ${name}` } });
      if (method === 'GET' && sub === undefined) return send(res, 200, this.#deletedBundle(entry));
      if (method === 'POST' && sub === 'recover' && action === undefined) {
        entry.deleted = undefined;
        this.#persist();
        return send(res, 200, this.#bundle(entry, entry.versions.at(-1)!, false));
      }
      if (method === 'DELETE' && sub === undefined) {
        this.#secrets.delete(name.toLowerCase());
        this.#persist();
        res.writeHead(204).end();
        return;
      }
      return notAllowed(res);
    }
    send(res, 404, { error: { code: 'NotFound', message: `No such resource: ${url.pathname}` } });
  }

  #set(name: string, body: Record<string, unknown>, res: ServerResponse): void {
    if (typeof body.value !== 'string')
      return send(res, 400, { error: { code: 'BadParameter', message: 'Property value is required.' } });
    const key = name.toLowerCase();
    const existing = this.#secrets.get(key);
    if (existing?.deleted) {
      return send(res, 409, {
        error: {
          code: 'Conflict',
          message: `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
        },
      });
    }
    const attributes = (body.attributes ?? {}) as { enabled?: boolean; nbf?: number; exp?: number };
    const t = now();
    const version: SecretVersion = {
      version: randomBytes(16).toString('hex'),
      value: body.value,
      contentType: typeof body.contentType === 'string' ? body.contentType : undefined,
      tags: (body.tags as Record<string, string> | undefined) ?? undefined,
      enabled: attributes.enabled ?? true,
      nbf: attributes.nbf,
      exp: attributes.exp,
      created: t,
      updated: t,
    };
    const entry = existing ?? { name, versions: [] };
    entry.versions.push(version);
    this.#secrets.set(key, entry);
    this.#persist();
    send(res, 200, this.#bundle(entry, version, true));
  }

  #find(name: string, version: string | undefined, res: ServerResponse): [SecretEntry, SecretVersion] | undefined {
    const entry = this.#secrets.get(name.toLowerCase());
    const v =
      entry && !entry.deleted
        ? version
          ? entry.versions.find((x) => x.version === version)
          : entry.versions.at(-1)
        : undefined;
    if (!entry || !v) {
      send(res, 404, {
        error: {
          code: 'SecretNotFound',
          message: `A secret with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault.`,
        },
      });
      return undefined;
    }
    return [entry, v];
  }

  #get(name: string, version: string | undefined, res: ServerResponse): void {
    const found = this.#find(name, version || undefined, res);
    if (!found) return;
    const [entry, v] = found;
    if (!v.enabled)
      return send(res, 403, {
        error: { code: 'Forbidden', message: `Operation get is not allowed on a disabled secret.` },
      });
    send(res, 200, this.#bundle(entry, v, true));
  }

  #update(name: string, version: string | undefined, body: Record<string, unknown>, res: ServerResponse): void {
    const found = this.#find(name, version || undefined, res);
    if (!found) return;
    const [entry, v] = found;
    const attributes = (body.attributes ?? {}) as { enabled?: boolean; nbf?: number; exp?: number };
    if (typeof body.contentType === 'string') v.contentType = body.contentType;
    if (body.tags) v.tags = body.tags as Record<string, string>;
    if (attributes.enabled !== undefined) v.enabled = attributes.enabled;
    if (attributes.nbf !== undefined) v.nbf = attributes.nbf;
    if (attributes.exp !== undefined) v.exp = attributes.exp;
    v.updated = now();
    this.#persist();
    send(res, 200, this.#bundle(entry, v, false));
  }

  #delete(name: string, res: ServerResponse): void {
    const entry = this.#secrets.get(name.toLowerCase());
    if (!entry || entry.deleted) {
      return send(res, 404, {
        error: { code: 'SecretNotFound', message: `A secret with (name/id) ${name} was not found in this key vault.` },
      });
    }
    const t = now();
    entry.deleted = { deletedDate: t, scheduledPurgeDate: t + (this.options.retentionDays ?? 90) * 86_400 };
    this.#persist();
    send(res, 200, this.#deletedBundle(entry));
  }

  #list(res: ServerResponse, deleted: boolean): void {
    const value = [...this.#secrets.values()]
      .filter((e) => Boolean(e.deleted) === deleted)
      .map((e) =>
        deleted ? omitValue(this.#deletedBundle(e)) : omitValue(this.#bundle(e, e.versions.at(-1)!, false, true)),
      );
    send(res, 200, { value, nextLink: null });
  }

  #listVersions(name: string, res: ServerResponse): void {
    const entry = this.#secrets.get(name.toLowerCase());
    const value = entry && !entry.deleted ? entry.versions.map((v) => omitValue(this.#bundle(entry, v, false))) : [];
    send(res, 200, { value, nextLink: null });
  }

  #bundle(entry: SecretEntry, v: SecretVersion, withValue: boolean, versionless = false): Record<string, unknown> {
    return {
      ...(withValue ? { value: v.value } : {}),
      id: `${this.#url}/secrets/${entry.name}${versionless ? '' : `/${v.version}`}`,
      ...(v.contentType ? { contentType: v.contentType } : {}),
      ...(v.tags ? { tags: v.tags } : {}),
      attributes: {
        enabled: v.enabled,
        ...(v.nbf ? { nbf: v.nbf } : {}),
        ...(v.exp ? { exp: v.exp } : {}),
        created: v.created,
        updated: v.updated,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: this.options.retentionDays ?? 90,
      },
    };
  }

  #deletedBundle(entry: SecretEntry): Record<string, unknown> {
    return {
      ...this.#bundle(entry, entry.versions.at(-1)!, false),
      recoveryId: `${this.#url}/deletedsecrets/${entry.name}`,
      deletedDate: entry.deleted!.deletedDate,
      scheduledPurgeDate: entry.deleted!.scheduledPurgeDate,
    };
  }
}

function omitValue(bundle: Record<string, unknown>): Record<string, unknown> {
  const { value: _value, ...rest } = bundle;
  return rest;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

const notAllowed = (res: ServerResponse) =>
  send(res, 405, { error: { code: 'MethodNotAllowed', message: 'The method is not supported here.' } });
const badName = (res: ServerResponse, name: string) =>
  send(res, 400, {
    error: {
      code: 'BadParameter',
      message: `The secret name "${name}" is invalid: use 1-127 letters, digits and dashes.`,
    },
  });
