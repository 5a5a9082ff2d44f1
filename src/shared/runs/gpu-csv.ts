import { NvidiaSmiParseError, parseGpuSamples, type GpuSample } from '../parsers/nvidia-smi';
import { recordLines, type JsonlProblem } from './run-status';

/**
 * `record/gpu.csv`: the supervisor's 1 Hz samples, one line per GPU per sample,
 * `epoch_ms, index, utilization.gpu, memory.used, memory.total, power.draw, temperature.gpu` — its own timestamp
 * followed by exactly what `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` printed. The nvidia-smi part is
 * read by the same parser preflight uses, so `[N/A]`, `[Not Supported]` and units behave identically.
 */

export interface GpuCsvSample extends GpuSample {
  /** When the sample was taken (epoch ms). */
  t: number;
}

export interface ParsedGpuCsv {
  samples: GpuCsvSample[];
  problems: JsonlProblem[];
  /** The last line when it has no newline yet (the supervisor may be mid-write); prepend it to the next chunk. */
  partialTail: string;
}

/**
 * Parses gpu.csv text; a bad line is reported with its number and skipped. A header line (`epoch_ms, …`) is allowed.
 * Units are allowed too (`45 %`, `1234 MiB`), as nvidia-smi prints them without `nounits`.
 */
export function parseGpuCsv(text: string, source = 'gpu.csv'): ParsedGpuCsv {
  const samples: GpuCsvSample[] = [];
  const problems: JsonlProblem[] = [];
  let partialTail = '';
  for (const { raw, number, last } of recordLines(text)) {
    // Unlike a JSON line, a cut CSV line can still parse (`…, 4` of `…, 45`): an unterminated last line always waits.
    if (last) {
      partialTail = raw;
      continue;
    }
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const comma = line.indexOf(',');
    const stamp = (comma < 0 ? line : line.slice(0, comma)).trim();
    if (/^epoch/i.test(stamp)) continue; // a header line
    const fail = (message: string): void => {
      problems.push({ source, line: number, message, text: line.length > 200 ? `${line.slice(0, 200)}…` : line });
    };
    if (!/^\d+$/.test(stamp) || comma < 0) {
      fail(`expected epoch milliseconds first, found "${stamp}"`);
      continue;
    }
    try {
      const [sample, ...extra] = parseGpuSamples(line.slice(comma + 1));
      if (!sample || extra.length > 0) {
        fail('expected one GPU sample');
        continue;
      }
      samples.push({ t: Number(stamp), ...sample });
    } catch (err) {
      if (!(err instanceof NvidiaSmiParseError)) throw err;
      // The nvidia-smi parser numbers lines within the text it saw; this line's number is the one that matters.
      fail(err.message.replace(/^nvidia-smi output, line \d+: /, ''));
    }
  }
  return { samples, problems, partialTail };
}
