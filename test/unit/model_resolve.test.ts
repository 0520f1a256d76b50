// Model resolution: local folder, HF cache, and downloads from a loopback fake hub (never the internet: every
// test's env points HF_ENDPOINT at 127.0.0.1 and HF_HUB_CACHE at a temp folder).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ModelLoadError } from '../../src/errors.js';
import { hubCacheDir, isHubOffline } from '../../src/model/hf_cache.js';
import { loadModel } from '../../src/model/load.js';
import { isValidRepoId, resolveModel } from '../../src/model/resolve.js';
import { FakeHub } from '../helpers/model_fake_hub.js';
import { writeTinyBertFolder } from '../helpers/model_tiny_bert.js';

const COMMIT_MAIN = 'a'.repeat(40);
const COMMIT_V1 = 'b'.repeat(40);
const COMMIT_SHARDED = 'c'.repeat(40);
const TOKEN = 'hf_loopbacktesttoken';

let root: string;
let hub: FakeHub;
let repoFolder: string;
let cacheCounter = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pooled-resolve-'));
  repoFolder = join(root, 'repos', 'tiny');
  await writeTinyBertFolder(repoFolder, { pooling: 'mean', withPositionIds: true });
  const shardedFolder = join(root, 'repos', 'sharded');
  await writeTinyBertFolder(shardedFolder, { pooling: 'cls', numShards: 3 });
  const binOnlyFolder = join(root, 'repos', 'bin-only');
  await mkdir(binOnlyFolder, { recursive: true });
  await writeFile(join(binOnlyFolder, 'config.json'), '{}');
  await writeFile(join(binOnlyFolder, 'tokenizer.json'), '{}');
  await writeFile(join(binOnlyFolder, 'pytorch_model.bin'), 'not really');

  hub = await FakeHub.start();
  hub.addRepo('acme/tiny-bert', { folder: repoFolder, refs: { main: COMMIT_MAIN, v1: COMMIT_V1 } });
  hub.addRepo('acme/private-bert', { folder: repoFolder, refs: { main: COMMIT_MAIN }, token: TOKEN });
  hub.addRepo('acme/sharded-bert', { folder: shardedFolder, refs: { main: COMMIT_SHARDED } });
  hub.addRepo('acme/bin-only', { folder: binOnlyFolder, refs: { main: COMMIT_MAIN } });
});

after(async () => {
  await hub.stop();
  await rm(root, { recursive: true, force: true });
});

/** A fresh, empty cache and an env pointing at it and at the fake hub. */
function freshEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HF_HUB_CACHE: join(root, `cache-${cacheCounter++}`), HF_ENDPOINT: hub.url, ...extra };
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ModelLoadError, `expected ModelLoadError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('environment', () => {
  it('finds the cache like huggingface_hub', () => {
    assert.equal(hubCacheDir({ HF_HUB_CACHE: '/x/hub-cache', HF_HOME: '/y' }), '/x/hub-cache');
    assert.equal(hubCacheDir({ HF_HOME: '/y' }), '/y/hub');
    assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/z' }), '/z/huggingface/hub');
    assert.match(hubCacheDir({}), /\.cache\/huggingface\/hub$/);
    assert.equal(isHubOffline({ HF_HUB_OFFLINE: '1' }), true);
    assert.equal(isHubOffline({ HF_HUB_OFFLINE: 'true' }), true);
    assert.equal(isHubOffline({ HF_HUB_OFFLINE: '0' }), false);
    assert.equal(isHubOffline({}), false);
  });

  it('validates repo ids', () => {
    assert.ok(isValidRepoId('BAAI/bge-small-en-v1.5'));
    assert.ok(isValidRepoId('bert-base-uncased'));
    for (const bad of ['a/b/c', './model', '../x', 'org/-name', 'org--x/y', 'a b/c', '']) assert.ok(!isValidRepoId(bad), bad);
  });
});

describe('resolve from a local folder', () => {
  it('uses a folder with config.json as is', async () => {
    const resolved = await resolveModel(repoFolder, { env: freshEnv() });
    assert.deepEqual(resolved, { path: repoFolder, id: 'tiny', source: 'folder' });
  });

  it('rejects a folder without config.json and a spec that is neither folder nor repo id', async () => {
    await rejectsWith(resolveModel(join(root, 'repos'), { env: freshEnv() }), /model folder has no config\.json/);
    await rejectsWith(resolveModel('./no/such/folder', { env: freshEnv() }), /no such folder, and not a Hugging Face model id/);
  });
});

describe('resolve through the loopback hub', () => {
  it('downloads into the shared cache layout (blobs, snapshot symlinks, refs, .no_exist)', async () => {
    const env = freshEnv();
    const resolved = await resolveModel('acme/tiny-bert', { env });
    const repoCache = join(env.HF_HUB_CACHE!, 'models--acme--tiny-bert');
    const snapshot = join(repoCache, 'snapshots', COMMIT_MAIN);
    assert.deepEqual(resolved, { path: snapshot, id: 'acme/tiny-bert', source: 'hub', commit: COMMIT_MAIN });
    assert.equal((await readFile(join(repoCache, 'refs', 'main'), 'utf8')).trim(), COMMIT_MAIN);

    for (const file of [
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'modules.json',
      '1_Pooling/config.json',
      'sentence_bert_config.json',
      'config_sentence_transformers.json',
      'model.safetensors',
    ]) {
      const link = join(snapshot, file);
      assert.ok((await lstat(link)).isSymbolicLink(), `${file} is a symlink`);
      const target = await readlink(link);
      assert.ok(!target.startsWith('/'), 'relative symlink, like huggingface_hub');
      assert.equal(await readFile(link, 'utf8'), await readFile(join(repoFolder, file), 'utf8'), file);
      const blobName = target.split('/').pop()!;
      const bytes = await readFile(join(repoFolder, file));
      const expectedBlob = file.endsWith('.safetensors')
        ? createHash('sha256').update(bytes).digest('hex')
        : createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
      assert.equal(blobName, expectedBlob, `${file} blob is named by its etag`);
      assert.ok((await lstat(join(repoCache, 'blobs', blobName))).isFile());
    }
    // special_tokens_map.json is not in the repo: recorded as known-absent, like huggingface_hub does.
    assert.ok((await lstat(join(repoCache, '.no_exist', COMMIT_MAIN, 'special_tokens_map.json'))).isFile());
    assert.ok(!hub.requests.some((request) => request.authorization !== undefined), 'no token sent when none is set');
  });

  it('serves a second resolve from the cache without any request', async () => {
    const env = freshEnv();
    await resolveModel('acme/tiny-bert', { env });
    const numRequests = hub.requests.length;
    const again = await resolveModel('acme/tiny-bert', { env });
    assert.equal(again.source, 'cache');
    assert.equal(again.commit, COMMIT_MAIN);
    assert.equal(hub.requests.length, numRequests);
    // And the whole model loads from there.
    const model = await loadModel('acme/tiny-bert', { env });
    assert.equal(model.id, 'acme/tiny-bert');
    assert.equal(model.settings.pooling, 'mean');
    assert.equal(model.weights.size, 21);
    assert.equal(hub.requests.length, numRequests);
  });

  it('honours a tag and a commit hash as revision', async () => {
    const env = freshEnv();
    const tagged = await resolveModel('acme/tiny-bert', { env, revision: 'v1' });
    assert.equal(tagged.commit, COMMIT_V1);
    assert.equal((await readFile(join(env.HF_HUB_CACHE!, 'models--acme--tiny-bert', 'refs', 'v1'), 'utf8')).trim(), COMMIT_V1);
    const numRequests = hub.requests.length;
    const byHash = await resolveModel('acme/tiny-bert', { env, revision: COMMIT_V1 });
    assert.deepEqual(byHash, { ...tagged, source: 'cache' });
    assert.equal(hub.requests.length, numRequests);
    await rejectsWith(resolveModel('acme/tiny-bert', { env, revision: '../../x' }), /invalid revision/);
  });

  it('downloads a sharded checkpoint (index + every shard) and loads it', async () => {
    const env = freshEnv();
    const model = await loadModel('acme/sharded-bert', { env, servedModelName: 'sharded' });
    assert.equal(model.id, 'sharded');
    assert.equal(model.source, 'hub');
    assert.equal(model.weights.size, 21);
    assert.equal(model.settings.pooling, 'cls');
    const snapshot = join(env.HF_HUB_CACHE!, 'models--acme--sharded-bert', 'snapshots', COMMIT_SHARDED);
    for (const shard of ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors']) {
      assert.ok((await lstat(join(snapshot, shard))).isSymbolicLink(), shard);
    }
  });

  it('sends HF_TOKEN as a bearer token and fails cleanly without it', async () => {
    const before = hub.requests.length;
    const resolved = await resolveModel('acme/private-bert', { env: freshEnv({ HF_TOKEN: TOKEN }) });
    assert.equal(resolved.source, 'hub');
    const sent = hub.requests.slice(before);
    assert.ok(sent.length > 0);
    for (const request of sent) assert.equal(request.authorization, `Bearer ${TOKEN}`, request.url);

    await rejectsWith(
      resolveModel('acme/private-bert', { env: freshEnv() }),
      /acme\/private-bert \(revision main\) at http:\/\/127\.0\.0\.1:\d+: authentication failed \(HTTP 401.*set HF_TOKEN/,
    );
    await rejectsWith(resolveModel('acme/private-bert', { env: freshEnv({ HF_TOKEN: 'hf_wrong' }) }), /authentication failed \(HTTP 401.*check HF_TOKEN/);
    await rejectsWith(resolveModel('acme/private-bert', { env: freshEnv({ HF_TOKEN: 'secret' }) }), /must start with "hf_"/);
  });

  it('fails cleanly for a missing repo, a missing revision and a repo without safetensors', async () => {
    await rejectsWith(resolveModel('acme/nope', { env: freshEnv() }), /acme\/nope \(revision main\) at .*: not found \(HTTP 404: Repository not found\)/);
    await rejectsWith(resolveModel('acme/tiny-bert', { env: freshEnv(), revision: 'v9' }), /not found \(HTTP 404: Invalid rev id: v9\)/);
    await rejectsWith(
      resolveModel('acme/bin-only', { env: freshEnv() }),
      /has no model\.safetensors \(or model\.safetensors\.index\.json; pytorch_model\.bin is not supported\)/,
    );
  });

  it('reports an unreachable hub', async () => {
    const closed = await FakeHub.start();
    const url = closed.url;
    await closed.stop();
    await rejectsWith(resolveModel('acme/tiny-bert', { env: freshEnv({ HF_ENDPOINT: url }) }), /resolving the revision: .*set HF_HUB_OFFLINE=1/);
  });
});

describe('HF_HUB_OFFLINE', () => {
  it('uses the cache without touching the network', async () => {
    const env = freshEnv();
    await resolveModel('acme/tiny-bert', { env });
    const numRequests = hub.requests.length;
    const offline = await resolveModel('acme/tiny-bert', { env: { ...env, HF_HUB_OFFLINE: '1' } });
    assert.equal(offline.source, 'cache');
    assert.equal(hub.requests.length, numRequests);
  });

  it('fails clearly when the model is not cached, without any request', async () => {
    const numRequests = hub.requests.length;
    await rejectsWith(
      resolveModel('acme/tiny-bert', { env: freshEnv({ HF_HUB_OFFLINE: '1' }) }),
      /acme\/tiny-bert: HF_HUB_OFFLINE is set and revision main is not in the cache/,
    );
    assert.equal(hub.requests.length, numRequests);
  });

  it('names the files a partial snapshot lacks', async () => {
    const env = freshEnv({ HF_HUB_OFFLINE: '1' });
    const repoCache = join(env.HF_HUB_CACHE!, 'models--acme--tiny-bert');
    await mkdir(join(repoCache, 'refs'), { recursive: true });
    await writeFile(join(repoCache, 'refs', 'main'), COMMIT_MAIN);
    await mkdir(join(repoCache, 'snapshots', COMMIT_MAIN), { recursive: true });
    await writeFile(join(repoCache, 'snapshots', COMMIT_MAIN, 'config.json'), '{}');
    await rejectsWith(resolveModel('acme/tiny-bert', { env }), /lacks tokenizer\.json, model\.safetensors/);
  });
});

describe('resolve from a cache written by other tools', () => {
  it('uses a complete hand-made snapshot (Python layout) without the network', async () => {
    const env = freshEnv();
    const repoCache = join(env.HF_HUB_CACHE!, 'models--acme--tiny-bert');
    await mkdir(join(repoCache, 'refs'), { recursive: true });
    await writeFile(join(repoCache, 'refs', 'main'), COMMIT_MAIN);
    const files = [
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'modules.json',
      '1_Pooling/config.json',
      'sentence_bert_config.json',
      'config_sentence_transformers.json',
      'model.safetensors',
    ];
    for (const file of [...files, 'special_tokens_map.json']) {
      const blob = join(repoCache, 'blobs', createHash('sha1').update(file).digest('hex'));
      await mkdir(dirname(blob), { recursive: true });
      await writeFile(blob, file === 'special_tokens_map.json' ? '{}' : await readFile(join(repoFolder, file)));
      const link = join(repoCache, 'snapshots', COMMIT_MAIN, file);
      await mkdir(dirname(link), { recursive: true });
      await symlink(blob, link);
    }
    const numRequests = hub.requests.length;
    const resolved = await resolveModel('acme/tiny-bert', { env });
    assert.equal(resolved.source, 'cache');
    assert.equal(hub.requests.length, numRequests);
  });

  it('completes a snapshot whose optional files are unknown (e.g. written by transformers alone)', async () => {
    const env = freshEnv();
    const snapshot = join(env.HF_HUB_CACHE!, 'models--acme--tiny-bert', 'snapshots', COMMIT_MAIN);
    await mkdir(snapshot, { recursive: true });
    await mkdir(join(env.HF_HUB_CACHE!, 'models--acme--tiny-bert', 'refs'), { recursive: true });
    await writeFile(join(env.HF_HUB_CACHE!, 'models--acme--tiny-bert', 'refs', 'main'), COMMIT_MAIN);
    for (const file of ['config.json', 'tokenizer.json', 'model.safetensors']) {
      await writeFile(join(snapshot, file), await readFile(join(repoFolder, file)));
    }
    // Without modules.json the pooling would silently default to CLS; the resolver asks the hub instead.
    const resolved = await resolveModel('acme/tiny-bert', { env });
    assert.equal(resolved.source, 'hub');
    assert.ok((await lstat(join(snapshot, 'modules.json'))).isSymbolicLink());
    const model = await loadModel('acme/tiny-bert', { env });
    assert.equal(model.settings.pooling, 'mean');
  });
});
