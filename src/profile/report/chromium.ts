// Headless Chromium, driven by its command line only (--screenshot): no npm package and no DevTools
// protocol client needed. Used to rasterize the report's charts into PNGs and, in tests, to prove the
// report renders. Every launch gets a fresh profile folder so runs never share state or lock each other out.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const KNOWN_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];
const NAMES_ON_PATH = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** POOLED_CHROMIUM, then the usual install locations, then PATH; null when none exists. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.POOLED_CHROMIUM) return existsSync(env.POOLED_CHROMIUM) ? env.POOLED_CHROMIUM : null;
  for (const path of KNOWN_PATHS) if (existsSync(path)) return path;
  for (const folder of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of NAMES_ON_PATH) if (existsSync(join(folder, name))) return join(folder, name);
  }
  return null;
}

export interface ScreenshotRequest {
  readonly url: string;
  readonly outFile: string;
  /** Viewport in CSS pixels; the PNG is this times `scale`. */
  readonly width: number;
  readonly height: number;
  readonly scale?: number;
  readonly timeoutMs?: number;
}

export async function screenshot(chromiumPath: string, request: ScreenshotRequest): Promise<void> {
  const profileDir = mkdtempSync(join(tmpdir(), 'pooled-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    '--mute-audio',
    `--user-data-dir=${profileDir}`,
    `--force-device-scale-factor=${request.scale ?? 1}`,
    `--window-size=${request.width},${request.height}`,
    `--screenshot=${request.outFile}`,
    request.url,
  ];
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(chromiumPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text: string) => {
        stderr = (stderr + text).slice(-4000);
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`chromium did not finish within ${(request.timeoutMs ?? 60000) / 1000} s`));
      }, request.timeoutMs ?? 60000);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (existsSync(request.outFile)) resolve();
        else
          reject(
            new Error(
              `chromium exited with ${code} and wrote no screenshot: ${stderr
                .split('\n')
                .filter((l) => !/dbus|bus\.cc/i.test(l))
                .slice(-5)
                .join(' | ')}`,
            ),
          );
      });
    });
  } finally {
    rmSync(profileDir, { recursive: true, force: true });
  }
}
