// Server-sent events, as OpenAI-compatible servers stream chat completions: events separated by a blank line,
// payload in `data:` lines. Network chunks split events anywhere, so the parser keeps the unfinished tail.

export class SseParser {
  private buffer = '';
  private dataLines: string[] = [];

  /** Feeds a decoded chunk; returns the data payloads of the events this chunk completed, in order. */
  push(text: string): string[] {
    this.buffer += text;
    const completed: string[] = [];
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\n|\r/)) !== -1) {
      const line = this.buffer.slice(0, newline);
      const separatorLength = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      // A lone "\r" at the very end may be the first half of "\r\n": wait for the next chunk.
      if (separatorLength === 1 && this.buffer[newline] === '\r' && newline === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(newline + separatorLength);
      if (line === '') {
        if (this.dataLines.length > 0) completed.push(this.dataLines.join('\n'));
        this.dataLines = [];
      } else if (line.startsWith('data:')) {
        this.dataLines.push(line.slice(5).replace(/^ /, ''));
      }
      // Other fields (event:, id:, retry:) and comments (":") carry nothing the metrics need.
    }
    return completed;
  }

  /** Flushes an event the server ended without the final blank line. */
  end(): string[] {
    const rest = this.buffer.length > 0 ? this.push('\n\n') : [];
    if (this.dataLines.length > 0) {
      rest.push(this.dataLines.join('\n'));
      this.dataLines = [];
    }
    return rest;
  }
}
