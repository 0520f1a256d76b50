import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { test } from 'node:test';
import { countPixelsNear, crc32, decodePng, encodeRgbPng } from '../../src/profile/png.js';
import { SseParser } from '../../src/profile/sse.js';

test('crc32 matches the standard check value', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.from('IEND')), 0xae426082);
});

test('encoded PNGs decode back to the same pixels', () => {
  const width = 5;
  const height = 3;
  const rgb = new Uint8Array(width * height * 3).map((_, i) => (i * 37) & 0xff);
  const file = encodeRgbPng(width, height, rgb);
  assert.deepEqual([...file.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const image = decodePng(file);
  assert.equal(image.width, width);
  assert.equal(image.height, height);
  for (let i = 0; i < width * height; i++) {
    assert.deepEqual([...image.rgba.subarray(i * 4, i * 4 + 4)], [rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2], 255]);
  }
});

test('countPixelsNear counts pixels within the tolerance of a colour', () => {
  const red = [214, 39, 40];
  const nearRed = [220, 35, 44];
  const blue = [31, 119, 180];
  const image = decodePng(encodeRgbPng(3, 2, new Uint8Array([...red, ...red, ...nearRed, ...blue, ...blue, ...red])));
  assert.equal(countPixelsNear(image, '#d62728', 0), 3);
  assert.equal(countPixelsNear(image, '#d62728', 8), 4);
  assert.equal(countPixelsNear(image, '#1f77b4', 8), 2);
});

test('the decoder undoes every PNG row filter (Sub, Up, Average, Paeth)', () => {
  // 2x2 RGBA image; row 0 uses Sub, row 1 uses Paeth. Pixels: (10,20,30,255) (15,25,35,255) / (20,20,20,255) (40,40,40,128)
  const pixels = [
    [10, 20, 30, 255, 15, 25, 35, 255],
    [20, 20, 20, 255, 40, 40, 40, 128],
  ];
  const paeth = (a: number, b: number, c: number): number => {
    const p = a + b - c;
    const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
  };
  const row0 = [1, ...pixels[0]!.map((v, x) => (v - (x >= 4 ? pixels[0]![x - 4]! : 0)) & 0xff)];
  const row1 = [4, ...pixels[1]!.map((v, x) => (v - paeth(x >= 4 ? pixels[1]![x - 4]! : 0, pixels[0]![x]!, x >= 4 ? pixels[0]![x - 4]! : 0)) & 0xff)];
  const header = Buffer.from([0, 0, 0, 2, 0, 0, 0, 2, 8, 6, 0, 0, 0]);
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const file = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.from([...row0, ...row1]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  assert.deepEqual([...decodePng(file).rgba], [...pixels[0]!, ...pixels[1]!]);
  const corrupted = Buffer.from(file);
  corrupted[20] = corrupted[20]! ^ 1;
  assert.throws(() => decodePng(corrupted), /bad CRC/);
});

test('SSE events are reassembled across arbitrary chunk boundaries', () => {
  const stream = 'data: {"a":1}\n\n: comment\nevent: x\ndata: {"b":\ndata: 2}\r\n\r\ndata: [DONE]\n\n';
  for (const chunkSize of [1, 2, 3, 7, stream.length]) {
    const parser = new SseParser();
    const events: string[] = [];
    for (let i = 0; i < stream.length; i += chunkSize) events.push(...parser.push(stream.slice(i, i + chunkSize)));
    events.push(...parser.end());
    assert.deepEqual(events, ['{"a":1}', '{"b":\n2}', '[DONE]'], `chunk size ${chunkSize}`);
  }
  const unterminated = new SseParser();
  assert.deepEqual(unterminated.push('data: last'), []);
  assert.deepEqual(unterminated.end(), ['last']);
});
