// Synthetic images for vision-language requests, as PNG data URIs. The picture is a seeded gradient with a
// few coloured rectangles: cheap to make, different per request (so no server-side cache can shortcut it),
// and far smaller on the wire than noise, which would make the benchmark measure upload speed.
import { encodeRgbPng } from './png.js';
import type { SeededRandom } from './rng.js';

export function syntheticPng(width: number, height: number, rng: SeededRandom): Buffer {
  const rgb = new Uint8Array(width * height * 3);
  const base = [rng.nextInt(256), rng.nextInt(256), rng.nextInt(256)];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      rgb[i] = (base[0]! + (x * 255) / Math.max(1, width)) & 0xff;
      rgb[i + 1] = (base[1]! + (y * 255) / Math.max(1, height)) & 0xff;
      rgb[i + 2] = base[2]!;
    }
  }
  const numRectangles = 3 + rng.nextInt(4);
  for (let r = 0; r < numRectangles; r++) {
    const x0 = rng.nextInt(width);
    const y0 = rng.nextInt(height);
    const x1 = Math.min(width, x0 + 1 + rng.nextInt(Math.max(1, width >> 1)));
    const y1 = Math.min(height, y0 + 1 + rng.nextInt(Math.max(1, height >> 1)));
    const colour = [rng.nextInt(256), rng.nextInt(256), rng.nextInt(256)];
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) rgb.set(colour, (y * width + x) * 3);
    }
  }
  return encodeRgbPng(width, height, rgb);
}

export function syntheticPngDataUri(width: number, height: number, rng: SeededRandom): string {
  return `data:image/png;base64,${syntheticPng(width, height, rng).toString('base64')}`;
}
