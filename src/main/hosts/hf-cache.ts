import type { HostProfile } from '../../shared/hosts';

/** The HF caches to look in on the host: the profile's, then the usual places. */
export function hfCacheCandidates(profile: HostProfile): string[] {
  return [...(profile.hfCache ? [profile.hfCache] : []), '~/.cache/huggingface/hub', '~/.cache/huggingface'];
}
