import { describe, expect, it } from 'vitest';
import {
  emptyAddHostForm,
  suggestHostName,
  validateAddHostForm,
  type AddHostFormValues,
} from '../../../../src/renderer/hosts/add-host-form';

const form = (values: Partial<AddHostFormValues>): AddHostFormValues => ({ ...emptyAddHostForm, ...values });

describe('validateAddHostForm', () => {
  it('builds the hosts.add input for an SSH host, leaving empty fields to the schema defaults', () => {
    expect(validateAddHostForm(form({ name: 'gpu1', target: 'ana@gpu1.lab:2222' }))).toEqual({
      ok: true,
      input: {
        name: 'gpu1',
        kind: 'ssh',
        hostname: 'gpu1.lab',
        user: 'ana',
        port: 2222,
        identityFiles: [],
        proxyJump: [],
      },
    });
  });

  it('takes identity file, jump chain, socket and run root', () => {
    const result = validateAddHostForm(
      form({
        name: ' h100-a ',
        target: '127.0.0.1:40022',
        identityFile: ' /tmp/key ',
        jump: 'bastion,ana@gw:2200',
        dockerSocket: '/run/docker.sock',
        runRoot: '/scratch/runs',
      }),
    );
    expect(result).toEqual({
      ok: true,
      input: {
        name: 'h100-a',
        kind: 'ssh',
        hostname: '127.0.0.1',
        port: 40022,
        identityFiles: ['/tmp/key'],
        proxyJump: [{ host: 'bastion' }, { host: 'gw', user: 'ana', port: 2200 }],
        dockerSocket: '/run/docker.sock',
        runRoot: '/scratch/runs',
      },
    });
  });

  it('needs no address for this machine, and ignores the SSH fields', () => {
    expect(validateAddHostForm(form({ kind: 'local', name: 'here', target: 'junk here', jump: ',,' }))).toEqual({
      ok: true,
      input: { name: 'here', kind: 'local' },
    });
  });

  it('puts each mistake on its field', () => {
    const result = validateAddHostForm(
      form({ name: '-bad', target: 'gpu1:99999', jump: 'a,,b', dockerSocket: 'docker.sock' }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual(['dockerSocket', 'jump', 'name', 'target']);
    expect(result.errors.name).toMatch(/starting with a letter or digit/);
    expect(result.errors.target).toMatch(/^Port 99999 is outside/);
    expect(result.errors.dockerSocket).toMatch(/absolute path/);
  });

  it('asks for the name and the address when they are empty', () => {
    const result = validateAddHostForm(emptyAddHostForm);
    expect(result).toMatchObject({ ok: false, errors: { name: expect.any(String), target: expect.any(String) } });
  });

  it('limits names to 64 characters, as the schema does', () => {
    const result = validateAddHostForm(form({ name: 'a'.repeat(65), target: 'h' }));
    expect(result).toMatchObject({ ok: false, errors: { name: 'At most 64 characters.' } });
    expect(validateAddHostForm(form({ name: 'a'.repeat(64), target: 'h' })).ok).toBe(true);
  });
});

describe('suggestHostName', () => {
  it('takes the first label of the host name', () => {
    expect(suggestHostName('ana@gpu1.lab.example.org:22')).toBe('gpu1');
    expect(suggestHostName('127.0.0.1')).toBe('127');
    expect(suggestHostName('')).toBe('');
    expect(suggestHostName('bad host')).toBe('');
  });
});
