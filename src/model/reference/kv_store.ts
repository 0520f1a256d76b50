// The reference backend's paged KV cache: float64 K and V per layer per block, each block [blockSize, numKvHeads,
// headDim] row-major (slot s of a block holds one token's K for every kv head). Addressed by the block ids the engine's
// KV manager hands out (src/engine/kv/); which block holds which token is the batch's block table, never decided here.
//
// Blocks are allocated on first write, so a generous --kv-cache-memory costs nothing until used. Each slot remembers
// whether it was written: reading a slot never written is an engine bug (a block table pointing at K/V that was never
// computed), and the oracle says so instead of attending to zeros.
import type { PagedKeyValues } from './decoder_ops.js';

interface StoredBlock {
  readonly keys: Float64Array; // [blockSize * numKvHeads * headDim]
  readonly values: Float64Array;
  readonly written: Uint8Array; // [blockSize]
}

export class ReferenceKvStore {
  /** blocks[layer][blockId], allocated on first write. */
  private readonly blocks: (StoredBlock | undefined)[][];
  readonly rowWidth: number;

  constructor(
    readonly numLayers: number,
    readonly numBlocks: number,
    readonly blockSize: number,
    readonly numKvHeads: number,
    readonly headDim: number,
  ) {
    for (const [name, value] of Object.entries({ numLayers, numBlocks, blockSize, numKvHeads, headDim })) {
      if (!Number.isInteger(value) || value <= 0) throw new RangeError(`KV store ${name} must be a positive integer, got ${value}`);
    }
    if (numBlocks < 2) throw new RangeError(`KV store needs at least 2 blocks (block 0 is reserved), got ${numBlocks}`);
    this.rowWidth = numKvHeads * headDim;
    this.blocks = Array.from({ length: numLayers }, () => new Array<StoredBlock | undefined>(numBlocks));
  }

  private checkAddress(layer: number, blockId: number, slot: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.numLayers) throw new RangeError(`KV layer ${layer} is outside [0, ${this.numLayers})`);
    if (!Number.isInteger(blockId) || blockId <= 0 || blockId >= this.numBlocks) {
      throw new RangeError(`KV block ${blockId} is outside [1, ${this.numBlocks}) (block 0 is the reserved null block)`);
    }
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.blockSize) throw new RangeError(`KV slot ${slot} is outside [0, ${this.blockSize})`);
  }

  /** Stores one token's K and V rows ([numKvHeads * headDim] each, read from `offset`) at (block, slot) of a layer. */
  write(layer: number, blockId: number, slot: number, key: ArrayLike<number>, value: ArrayLike<number>, offset = 0): void {
    this.checkAddress(layer, blockId, slot);
    const width = this.rowWidth;
    if (key.length < offset + width || value.length < offset + width) throw new RangeError(`KV rows need ${width} values from offset ${offset}`);
    let block = this.blocks[layer][blockId];
    if (block === undefined) {
      const size = this.blockSize * width;
      block = { keys: new Float64Array(size), values: new Float64Array(size), written: new Uint8Array(this.blockSize) };
      this.blocks[layer][blockId] = block;
    }
    for (let i = 0; i < width; i++) {
      block.keys[slot * width + i] = key[offset + i];
      block.values[slot * width + i] = value[offset + i];
    }
    block.written[slot] = 1;
  }

  private read(layer: number, blockId: number, slot: number, which: 'keys' | 'values'): Float64Array {
    this.checkAddress(layer, blockId, slot);
    const block = this.blocks[layer][blockId];
    if (block === undefined || block.written[slot] === 0) {
      throw new RangeError(`KV layer ${layer} block ${blockId} slot ${slot} is read before it was written`);
    }
    return block[which].subarray(slot * this.rowWidth, (slot + 1) * this.rowWidth);
  }

  key(layer: number, blockId: number, slot: number): Float64Array {
    return this.read(layer, blockId, slot, 'keys');
  }

  value(layer: number, blockId: number, slot: number): Float64Array {
    return this.read(layer, blockId, slot, 'values');
  }

  /** One layer's view, as pagedCausalAttention reads it. */
  layer(layer: number): PagedKeyValues {
    return {
      blockSize: this.blockSize,
      key: (blockId, slot) => this.key(layer, blockId, slot),
      value: (blockId, slot) => this.value(layer, blockId, slot),
    };
  }

  /** Blocks that hold any K/V in any layer (memory actually used by the reference store). */
  get numMaterializedBlocks(): number {
    let count = 0;
    for (let blockId = 1; blockId < this.numBlocks; blockId++) {
      if (this.blocks.some((layerBlocks) => layerBlocks[blockId] !== undefined)) count++;
    }
    return count;
  }
}
