// `pooled <command>` dispatch. Each command lives in its own file and returns an exit code.
import { runDemoCommand } from './demo.js';
import { runEmbedCommand } from './embed.js';
import { runProfileCommand } from './profile.js';
import { runReportCommand } from './report.js';
import { runServeCommand } from './serve.js';

const USAGE = `usage: pooled <command> [options]

commands:
  serve     serve a model over HTTP (OpenAI /v1/embeddings)      pooled serve --model <folder | HF id>
  demo      serve the bundled demo checkpoint (RANDOM weights) on port 8000 and show a sample request
  embed     embed a JSONL/text file into .jsonl or .npy (resumable, shardable)   pooled embed --model M --input F --output O
  profile   AIPerf-style load generator for embedding endpoints     pooled profile --model M --url HOST:PORT
  report    HTML + PNG charts from a profile's artifacts folder     pooled report ARTIFACT_DIR

run "pooled <command> --help" for a command's options.
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return runServeCommand(rest);
    case 'demo':
      return runDemoCommand(rest);
    case 'embed':
      return runEmbedCommand(rest);
    case 'profile':
      return runProfileCommand(rest);
    case 'report':
      return runReportCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`pooled: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
