// The bare pipe's page for `npm run bench:live`: a plain xterm fed by a plain WebSocket, with the same ack window
// and the same renderer choice as the app, and the same probe. Bundled by bench/live.ts with esbuild.
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { WebglAddon } from '@xterm/addon-webgl';
import { RenderProbe } from '../src/renderer/live/render-probe';
import { pickRenderer } from '../src/renderer/common/gl-detect';
import { RenderCap } from '../src/renderer/live/render-cap';

const params = new URL(location.href).searchParams;
const element = document.getElementById('term')!;
const term = new Terminal({ cols: 120, rows: 40, scrollback: 50_000, disableStdin: true });
term.open(element);
const wanted = params.get('renderer') ?? 'auto';
const choice = wanted === 'auto' ? pickRenderer(document) : { kind: wanted, why: 'asked for' };
if (choice.kind === 'webgl') term.loadAddon(new WebglAddon());
const probe = new RenderProbe();
// `?cap=1` (bench:live --bare-cap): the same page with the app's render cap, to see what the cap alone is worth.
const cap = params.get('cap') === '1' ? new RenderCap(term) : null;
const sink = cap ?? term;
const socket = new WebSocket(`ws://${location.host}/ws`);
let unacked = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
const flush = (): void => {
  if (timer) clearTimeout(timer);
  timer = undefined;
  if (unacked > 0) socket.send(String(unacked));
  unacked = 0;
};
socket.onmessage = (event: MessageEvent<string>) => {
  const data = event.data;
  sink.write(data, () => {
    probe.rendered(data);
    unacked += data.length;
    if (unacked >= 64 * 1024) flush();
    else timer ??= setTimeout(flush, 10);
  });
};
Object.assign(window, {
  __bare: {
    results: () => probe.snapshot(),
    renderer: () => `${choice.kind} (${choice.why})${cap ? ', render cap' : ''}`,
    cappedFrames: () => cap?.frames ?? 0,
  },
});
