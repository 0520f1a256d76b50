// Output encodings of embedding rows.

/**
 * OpenAI's `encoding_format: "base64"`: the row's float32 values as little-endian bytes, base64-encoded
 * (what the openai clients decode with Float32Array over the decoded bytes).
 */
export function float32ToBase64(row: Float32Array): string {
  const bytes = Buffer.alloc(row.length * 4);
  for (let i = 0; i < row.length; i++) bytes.writeFloatLE(row[i], i * 4);
  return bytes.toString('base64');
}

/** Float32 values as a plain number array for JSON (each value is the exact float32, printed as a double). */
export function float32ToList(row: Float32Array): number[] {
  return Array.from(row);
}
