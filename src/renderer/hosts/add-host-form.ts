import type { CommandInput } from '../../shared/contract';
import { hostNameSchema, hostProfileSchema } from '../../shared/hosts';
import { parseJumpSpec, parseSshTarget } from './host-target';

/** What the add-host form holds: text as typed, parsed only on submit (and for field errors). */
export interface AddHostFormValues {
  readonly kind: 'ssh' | 'local';
  readonly name: string;
  /** `[user@]host[:port]` (SSH only). */
  readonly target: string;
  /** One private key file; empty means the ssh-agent's keys and the default ones. */
  readonly identityFile: string;
  /** `[user@]host[:port][,…]` (SSH only). */
  readonly jump: string;
  readonly dockerSocket: string;
  readonly runRoot: string;
}

export type AddHostField = Exclude<keyof AddHostFormValues, 'kind'>;
export type AddHostFieldErrors = Partial<Record<AddHostField, string>>;

export type AddHostInput = CommandInput<'hosts.add'>;

export type AddHostValidation =
  { readonly ok: true; readonly input: AddHostInput } | { readonly ok: false; readonly errors: AddHostFieldErrors };

export const defaultDockerSocket = '/var/run/docker.sock';
export const defaultRunRoot = '~/posttrain-runs';

export const emptyAddHostForm: AddHostFormValues = {
  kind: 'ssh',
  name: '',
  target: '',
  identityFile: '',
  jump: '',
  dockerSocket: '',
  runRoot: '',
};

/** A name suggestion from the address, so `ana@gpu1.lab:2222` offers `gpu1`. */
export function suggestHostName(target: string): string {
  const parsed = parseSshTarget(target);
  if (!parsed.ok) return '';
  const first = parsed.value.host.includes(':') ? parsed.value.host : (parsed.value.host.split('.')[0] ?? '');
  const name = first.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return hostNameSchema.safeParse(name).success ? name : '';
}

/**
 * Checks the form the way the contract's schema will, so mistakes show next to their field before
 * anything is sent; on success returns the `hosts.add` input (empty optional fields left to the
 * schema's defaults).
 */
export function validateAddHostForm(values: AddHostFormValues): AddHostValidation {
  const errors: AddHostFieldErrors = {};

  const name = values.name.trim();
  const nameCheck = hostNameSchema.safeParse(name);
  if (name === '') errors.name = 'Give the host a short name, e.g. gpu1.';
  else if (!nameCheck.success) {
    errors.name =
      name.length > 64
        ? 'At most 64 characters.'
        : 'Use letters, digits, dot, dash and underscore, starting with a letter or digit.';
  }

  const dockerSocket = values.dockerSocket.trim();
  if (dockerSocket !== '' && !dockerSocket.startsWith('/')) {
    errors.dockerSocket = 'An absolute path, e.g. /var/run/docker.sock.';
  }
  const runRoot = values.runRoot.trim();
  if (/[\n\r]/.test(values.runRoot)) errors.runRoot = 'One line only.';

  let input: AddHostInput;
  if (values.kind === 'local') {
    input = { name, kind: 'local' };
  } else {
    const target = parseSshTarget(values.target);
    if (values.target.trim() === '') errors.target = 'Where to connect: [user@]host[:port], e.g. ana@gpu1.lab.';
    else if (!target.ok) errors.target = capitalise(target.error) + '.';
    const jump = parseJumpSpec(values.jump);
    if (!jump.ok) errors.jump = capitalise(jump.error) + '.';
    const identityFile = values.identityFile.trim();
    if (/[\n\r]/.test(values.identityFile)) errors.identityFile = 'One path only.';
    if (!target.ok || !jump.ok) return { ok: false, errors };
    input = {
      name,
      kind: 'ssh',
      hostname: target.value.host,
      ...(target.value.user === undefined ? {} : { user: target.value.user }),
      ...(target.value.port === undefined ? {} : { port: target.value.port }),
      identityFiles: identityFile === '' ? [] : [identityFile],
      proxyJump: jump.value,
    };
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  input = {
    ...input,
    ...(dockerSocket === '' ? {} : { dockerSocket }),
    ...(runRoot === '' ? {} : { runRoot }),
  };
  // The contract's own schema has the last word; anything it still rejects goes on the field it names.
  const checked = hostProfileSchema.omit({ source: true }).safeParse(input);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const field = fieldForPath(issue.path);
      errors[field] ??= capitalise(issue.message) + '.';
    }
    return { ok: false, errors };
  }
  return { ok: true, input };
}

function fieldForPath(path: readonly PropertyKey[]): AddHostField {
  switch (path[0]) {
    case 'name':
      return 'name';
    case 'identityFiles':
      return 'identityFile';
    case 'proxyJump':
      return 'jump';
    case 'dockerSocket':
      return 'dockerSocket';
    case 'runRoot':
      return 'runRoot';
    default:
      return 'target';
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
