// The summary `pooled embed` prints at the end (stderr): counts, speed, where the output went, peak memory.
import type { EmbedJobSummary } from './job_options.js';
import { formatCount, formatDuration } from './progress.js';

function perSecond(count: number, seconds: number): string {
  return seconds > 0 ? formatCount(count / seconds) : '-';
}

export function formatSummary(s: EmbedJobSummary): string {
  const shard = s.shard.count > 1 ? ` (shard ${s.shard.index}/${s.shard.count})` : '';
  const lines: string[] = [];
  if (s.alreadyComplete) {
    lines.push(`pooled embed: already complete${shard}, nothing to do (${s.journalPath} says so; --overwrite starts over)`);
  } else {
    lines.push(
      `pooled embed: done${shard} in ${formatDuration(s.runSeconds)}` +
        (s.numResumedDocuments > 0 ? ` (this run; ${formatDuration(s.totalSeconds)} over all runs)` : ''),
    );
  }
  const resumed = s.numResumedDocuments > 0 && !s.alreadyComplete ? ` (${formatCount(s.numResumedDocuments)} of them by earlier runs)` : '';
  lines.push(`  documents  ${formatCount(s.numDocuments)} embedded${resumed}`);
  if (s.numSkipped > 0) lines.push(`  skipped    ${formatCount(s.numSkipped)} bad lines, listed in ${s.errorsPath}`);
  else lines.push('  skipped    0 lines');
  lines.push(`  tokens     ${formatCount(s.numTokens)}`);
  if (!s.alreadyComplete) {
    lines.push(`  speed      ${perSecond(s.numRunDocuments, s.runSeconds)} docs/s, ${perSecond(s.numRunTokens, s.runSeconds)} tokens/s (this run)`);
  }
  const outputs = Object.values(s.outputPaths).join(' + ');
  lines.push(`  output     ${outputs}: ${formatCount(s.numDocuments)} rows x ${s.numCols} ${s.outputDType}`);
  lines.push(`  peak RSS   ${(s.peakRssBytes / (1 << 20)).toFixed(1)} MiB`);
  return `${lines.join('\n')}\n`;
}
