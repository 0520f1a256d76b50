// A loopback stand-in for the Hugging Face hub: serves local folders as model repos on 127.0.0.1 with the routes
// @huggingface/hub calls for downloads (see src/model/hub_download.ts), and records every request.
//   GET  /api/models/ORG/NAME/revision/REV        model info ({sha, siblings, ...})
//   POST /api/models/ORG/NAME/paths-info/REV      [{type, path, oid, size, lfs?, lastCommit}] for existing paths
//   GET  /ORG/NAME/resolve/REV/PATH               file bytes; honours `Range: bytes=a-b` (206 + Content-Range)
// Errors use the hub's shapes: JSON {"error": ...} with X-Error-Code RepoNotFound / RevisionNotFound / EntryNotFound.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, sep } from 'node:path';

export interface FakeRepo {
  /** Folder whose files are the repo's files. */
  readonly folder: string;
  /** Branch/tag -> commit. */
  readonly refs: Record<string, string>;
  /** When set, every request must carry `Authorization: Bearer <token>` (401 otherwise). */
  readonly token?: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly range: string | undefined;
}

interface RepoFile {
  readonly bytes: Buffer;
  /** git blob sha1, what the hub reports as oid/ETag for regular files. */
  readonly gitOid: string;
  /** sha256, the LFS oid the hub reports for large files (we treat *.safetensors as LFS, like the hub). */
  readonly lfsOid: string | null;
}

function listFiles(folder: string): Map<string, RepoFile> {
  const files = new Map<string, RepoFile>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) {
        walk(path);
        continue;
      }
      const bytes = readFileSync(path);
      const gitOid = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
      const lfsOid = entry.endsWith('.safetensors') ? createHash('sha256').update(bytes).digest('hex') : null;
      files.set(relative(folder, path).split(sep).join('/'), { bytes, gitOid, lfsOid });
    }
  };
  walk(folder);
  return files;
}

export class FakeHub {
  readonly requests: RecordedRequest[] = [];
  private readonly server: Server;
  private readonly repos = new Map<string, FakeRepo>();

  private constructor() {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ error: String(error) }));
      });
    });
  }

  static async start(): Promise<FakeHub> {
    const hub = new FakeHub();
    await new Promise<void>((resolve) => hub.server.listen(0, '127.0.0.1', resolve));
    return hub;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  addRepo(repoId: string, repo: FakeRepo): void {
    this.repos.set(repoId, repo);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    this.requests.push({
      method: request.method ?? '',
      url: request.url ?? '',
      authorization: request.headers.authorization,
      range: request.headers.range,
    });
    const url = new URL(request.url ?? '/', 'http://localhost');
    const parts = url.pathname
      .split('/')
      .filter((part) => part !== '')
      .map(decodeURIComponent);

    const fail = (status: number, code: string, message: string): void => {
      response.writeHead(status, { 'Content-Type': 'application/json', 'X-Error-Code': code });
      response.end(JSON.stringify({ error: message }));
    };

    const isApi = parts[0] === 'api' && parts[1] === 'models';
    const repoId = isApi ? `${parts[2]}/${parts[3]}` : `${parts[0]}/${parts[1]}`;
    const route = isApi ? parts[4] : parts[2];
    const revision = isApi ? parts[5] : parts[3];
    const repo = this.repos.get(repoId);
    if (repo === undefined) return fail(404, 'RepoNotFound', 'Repository not found');
    if (repo.token !== undefined && request.headers.authorization !== `Bearer ${repo.token}`) {
      return fail(401, 'RepoNotFound', 'Invalid username or password.');
    }
    const commit = /^[0-9a-f]{40}$/.test(revision ?? '') && Object.values(repo.refs).includes(revision!) ? revision! : repo.refs[revision ?? ''];
    if (commit === undefined) return fail(404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    const files = listFiles(repo.folder);

    if (isApi && route === 'revision' && request.method === 'GET') {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(
        JSON.stringify({
          _id: 'fake',
          id: repoId,
          sha: commit,
          private: repo.token !== undefined,
          gated: false,
          downloads: 0,
          likes: 0,
          lastModified: '2024-01-01T00:00:00.000Z',
          siblings: [...files.keys()].map((rfilename) => ({ rfilename })),
        }),
      );
      return;
    }
    if (isApi && route === 'paths-info' && request.method === 'POST') {
      const { paths } = JSON.parse(body) as { paths: string[] };
      const infos = paths.flatMap((path) => {
        const file = files.get(path);
        if (file === undefined) return [];
        return [
          {
            type: 'file',
            path,
            oid: file.gitOid,
            size: file.bytes.length,
            ...(file.lfsOid ? { lfs: { oid: file.lfsOid, size: file.bytes.length, pointerSize: 134 } } : {}),
            lastCommit: { id: commit, title: 'fake commit', date: '2024-01-01T00:00:00.000Z' },
          },
        ];
      });
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(infos));
      return;
    }
    if (!isApi && route === 'resolve' && request.method === 'GET') {
      const path = parts.slice(4).join('/');
      const file = files.get(path);
      if (file === undefined) return fail(404, 'EntryNotFound', `${path} does not exist`);
      const headers = {
        'Content-Type': 'application/octet-stream',
        ETag: `"${file.lfsOid ?? file.gitOid}"`,
        'X-Repo-Commit': commit,
        'Accept-Ranges': 'bytes',
      };
      const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
      if (range !== null) {
        const start = Number(range[1]);
        const end = Math.min(Number(range[2]), file.bytes.length - 1);
        response.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${file.bytes.length}` });
        response.end(file.bytes.subarray(start, end + 1));
        return;
      }
      response.writeHead(200, { ...headers, 'Content-Length': String(file.bytes.length) });
      response.end(file.bytes);
      return;
    }
    fail(404, 'NotFound', `no route for ${request.method} ${url.pathname}`);
  }
}
