import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFakeNvidiaSmi, type FakeNvidiaSmi } from './fake-nvidia-smi';

/**
 * A fake `nvidia-smi` for a simulated multi-GPU box (the experiment benchmark's hosts): the idle H100 capture's
 * fake ({@link writeFakeNvidiaSmi}) whose `--query-gpu` CSV lists the captured GPU `gpus` times. Each copy is the
 * recorded row with only what tells GPUs apart changed: `index` (0…n-1), `count` (n), the UUID's last group and the
 * PCI bus (numbered after the recorded one). Every other value is the capture's. Only the CSV queries (what the
 * app's probe, the dispatcher and the supervisor's sampler ask) see n GPUs; the verbatim sections (`-L`, the table)
 * still show the one recorded GPU.
 */
export async function writeFakeGpuBox(opts: { binDir: string; gpus: number }): Promise<FakeNvidiaSmi> {
  if (!Number.isInteger(opts.gpus) || opts.gpus < 1 || opts.gpus > 64) {
    throw new Error(`a fake GPU box has 1 to 64 GPUs, not ${opts.gpus}`);
  }
  const fake = await writeFakeNvidiaSmi({ binDir: opts.binDir, state: 'idle' });
  const csvPath = path.join(fake.dataDir, 'gpu.csv');
  const [header = '', row = '', ...rest] = (await readFile(csvPath, 'utf8')).trimEnd().split('\n');
  if (rest.length > 0) throw new Error(`${csvPath}: expected the capture's one GPU row, found ${rest.length + 1}`);
  const names = header.split(',').map((c) => c.trim().replace(/\s*\[.*\]$/, ''));
  const cells = row.split(',');
  if (cells.length !== names.length)
    throw new Error(`${csvPath}: the GPU row has ${cells.length} cells, not ${names.length}`);
  const column = (name: string): number => {
    const i = names.indexOf(name);
    if (i < 0) throw new Error(`${csvPath} has no ${name} column`);
    return i;
  };
  const [index, count, uuid, busId, bus] = ['index', 'count', 'uuid', 'pci.bus_id', 'pci.bus'].map(column) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const recordedBus = parseInt(cells[bus]!.trim(), 16);
  const rows = Array.from({ length: opts.gpus }, (_, i) => {
    const copy = [...cells];
    const busHex = (recordedBus + i).toString(16).toUpperCase().padStart(2, '0');
    copy[index] = ` ${i}`;
    copy[count] = ` ${opts.gpus}`;
    // GPU-xxxxxxxx-…-xxxxxxxxxxxx: the last group's final two hex digits number the copy.
    copy[uuid] = cells[uuid]!.replace(/[0-9a-f]{2}(\s*)$/i, `${i.toString(16).padStart(2, '0')}$1`);
    copy[busId] = cells[busId]!.replace(/:([0-9A-Fa-f]{2}):/, `:${busHex}:`);
    copy[bus] = ` 0x${busHex}`;
    return copy.join(',');
  });
  await writeFile(csvPath, `${header}\n${rows.join('\n')}\n`);
  return fake;
}
