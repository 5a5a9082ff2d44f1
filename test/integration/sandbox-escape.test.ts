// The attack a hostile agent made on the GPU host before the sandbox ran unprivileged: it copied a binary into its
// workspace, made it setuid, and a local unprivileged user of the host ran it as root. Here the agent tries that (and
// chown to root, mknod, setuid(0)), and a real unprivileged host user (nobody, through setpriv) tries to use what it
// left. Real sshd, dockerd and supervisor; the SSH user is root, the worst case.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SANDBOX_ROOTLESS_ID } from '../../src/main/runs/sandbox-policy';
import { sleep, startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { describeWithTestHost } from '../support/test-host-availability';

/**
 * Tries every way to leave something privileged on the host, writes what happened to /workspace/attack.json, leaves
 * a valid rehearsal model (so the evaluator runs too), and waits for the test's go-ahead before it exits.
 */
const HOSTILE_AGENT = String.raw`
import json, os, shutil, stat, struct, time
res = {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "home": os.environ.get("HOME")}
def attempt(name, fn):
    try:
        fn()
        res[name] = "ok"
    except OSError as err:
        res[name] = "refused: %s" % err.strerror
shutil.copy("/usr/bin/id", "/workspace/rootid")
attempt("chmod-setuid", lambda: os.chmod("/workspace/rootid", 0o4755))
attempt("chown-root", lambda: os.chown("/workspace/rootid", 0, 0))
attempt("mknod", lambda: os.mknod("/workspace/mem", 0o666 | stat.S_IFCHR, os.makedev(1, 1)))
attempt("setuid-root", lambda: os.setuid(0))
shutil.copy("/usr/bin/id", os.path.join(os.environ["HOME"], "rootid2"))
attempt("home-setuid-setgid", lambda: os.chmod(os.path.join(os.environ["HOME"], "rootid2"), 0o6755))
os.makedirs("/workspace/final_model", exist_ok=True)
with open("/workspace/final_model/config.json", "w") as f:
    json.dump({"weights_file": "model.safetensors", "score_tensor": "score"}, f)
header = json.dumps({"score": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
with open("/workspace/final_model/model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header + struct.pack("<4f", 1, 1, 1, 1))
with open("/workspace/attack.tmp", "w") as f:
    json.dump(res, f)
os.rename("/workspace/attack.tmp", "/workspace/attack.json")
print("attack done", flush=True)
for _ in range(600):
    if os.path.exists("/workspace/.inspected"):
        break
    time.sleep(0.1)
`;

const NOBODY = 65534;

/**
 * Runs argv as the host's unprivileged user `nobody` (no groups), as a local user of the GPU host would. Through a
 * shell: setpriv keeps root's capabilities until its own exec, so the path to argv[0] is looked up by a process that
 * has dropped them only from the second exec on.
 */
function asNobody(argv: string[]): { code: number | null; out: string } {
  const result = spawnSync(
    'setpriv',
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', '/bin/sh', '-c', 'exec "$@"', 'sh', ...argv],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return { code: result.status, out: `${result.stdout}${result.stderr}`.trim() };
}

const mode = (file: string): number => statSync(file).mode & 0o7777;

describeWithTestHost('a hostile agent trying to leave root on the GPU host', () => {
  let t: RunTestHost;

  beforeAll(async () => {
    t = await startRunTestHost({ nvidiaSmi: 'none' });
    // A shared run root as on a real host: every user may traverse down to it (the temp dir itself is 0700).
    chmodSync(t.work, 0o755);
  });

  afterAll(async () => {
    await t?.cleanup();
  });

  it('gets an unprivileged uid, no capability, a folder no other user enters, and nothing setuid left', async () => {
    const id = await t.startRun({ agent: 'custom', command: ['python3', '-c', HOSTILE_AGENT], budget: '3m' });
    const runDir = t.runDir(id);
    const workspace = path.join(runDir, 'workspace');
    const attackFile = path.join(workspace, 'attack.json');
    const began = Date.now();
    while (!existsSync(attackFile)) {
      if (Date.now() - began > 60_000) throw new Error(`the agent did not finish its attack; ${runDir}`);
      await sleep(100);
    }
    const attack = JSON.parse(readFileSync(attackFile, 'utf8')) as Record<string, string | number>;

    // Inside: an unprivileged uid with a HOME of its own; chmod on its own file works, everything else is refused.
    expect(attack).toMatchObject({ uid: SANDBOX_ROOTLESS_ID, euid: SANDBOX_ROOTLESS_ID, home: '/home/agent' });
    expect(attack['chmod-setuid']).toBe('ok');
    expect(attack['chown-root']).toMatch(/^refused/);
    expect(attack.mknod).toMatch(/^refused/);
    expect(attack['setuid-root']).toMatch(/^refused/);
    expect(existsSync(path.join(workspace, 'mem'))).toBe(false);

    // The container as Docker has it: that user, no capability at all, no new privileges, limits set.
    const [agent] = await t.docker.listContainers({
      all: true,
      filters: { label: [`ptw.run=${id}`, 'ptw.role=agent'] },
    });
    const inspected = await t.docker.getContainer(agent!.Id).inspect();
    expect(inspected.Config.User).toBe(`${SANDBOX_ROOTLESS_ID}:${SANDBOX_ROOTLESS_ID}`);
    expect(inspected.HostConfig.CapDrop).toEqual(['ALL']);
    expect(inspected.HostConfig.CapAdd ?? []).toEqual([]);
    expect(inspected.HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
    expect(inspected.HostConfig.PidsLimit).toBeGreaterThan(0);
    // Memory and /dev/shm from the host's RAM (the spec named none), as run.json records them.
    const runJson = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as {
      launch: { sandbox: { user: string; memoryBytes: number; shmBytes: number; limitsFrom: unknown } };
    };
    expect(runJson.launch.sandbox).toMatchObject({
      user: `${SANDBOX_ROOTLESS_ID}:${SANDBOX_ROOTLESS_ID}`,
      limitsFrom: { memory: 'host', shm: 'host' },
    });
    expect(runJson.launch.sandbox.memoryBytes).toBeGreaterThan(0);
    expect(inspected.HostConfig.Memory).toBe(runJson.launch.sandbox.memoryBytes);
    expect(inspected.HostConfig.MemorySwap).toBe(runJson.launch.sandbox.memoryBytes);
    expect(inspected.HostConfig.ShmSize).toBe(runJson.launch.sandbox.shmBytes);

    // On the host: the setuid file is the agent's own uid's, never root's, and the run folder is closed.
    const rootid = path.join(workspace, 'rootid');
    expect(statSync(rootid).uid).toBe(SANDBOX_ROOTLESS_ID);
    expect(mode(runDir) & 0o077).toBe(0);
    expect(statSync(workspace).uid).toBe(SANDBOX_ROOTLESS_ID);
    expect(mode(workspace) & 0o077).toBe(0);
    expect(statSync(path.join(runDir, 'home')).uid).toBe(SANDBOX_ROOTLESS_ID);

    // The original attack: a local user runs what the agent left. They cannot even reach it.
    const reached = asNobody([rootid, '-u']);
    expect(reached.code, reached.out).not.toBe(0);
    expect(reached.out).toMatch(/Permission denied/);
    const listed = asNobody(['ls', runDir]);
    expect(listed.code, listed.out).not.toBe(0);

    // Even with the folder opened by hand, the binary grants the agent's uid, never root.
    chmodSync(runDir, 0o711);
    chmodSync(workspace, 0o711);
    try {
      const ran = asNobody([rootid, '-u']);
      expect(ran.code, ran.out).toBe(0);
      expect(ran.out).toBe(String(SANDBOX_ROOTLESS_ID));
      expect(ran.out).not.toBe('0');
    } finally {
      chmodSync(workspace, 0o700);
      chmodSync(runDir, 0o700);
    }

    await writeFile(path.join(workspace, '.inspected'), 'done\n');
    const waited = await t.ptw(['run', 'wait', id, '--json'], {}, 180_000);
    expect(JSON.parse(waited.stdout), waited.stderr).toMatchObject({ status: 'scored' });

    // The supervisor's last line: the bits it found are cleared, and it says so in the run's events.
    expect(mode(rootid) & 0o6000).toBe(0);
    expect(mode(path.join(runDir, 'home', 'rootid2')) & 0o6000).toBe(0);
    const events = readFileSync(path.join(runDir, 'record', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const sanitized = events.filter((e) => e.type === 'sandbox-sanitized');
    expect(sanitized.map((e) => e.folder).sort()).toEqual(['home', 'workspace']);
    expect(sanitized.find((e) => e.folder === 'workspace')?.cleared).toContain('rootid');

    // The evaluator ran as the same unprivileged user and wrote only its own output folder.
    const out = path.join(runDir, 'eval', 'attempt-1-out');
    expect(statSync(out).uid).toBe(SANDBOX_ROOTLESS_ID);
    expect(mode(out) & 0o077).toBe(0);
    expect(statSync(path.join(out, 'metrics.json')).uid).toBe(SANDBOX_ROOTLESS_ID);
  }, 300_000);
});
