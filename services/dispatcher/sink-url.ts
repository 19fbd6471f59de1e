import type { EgressPolicyConfig } from '../../shared/config/common.ts';
import { checkUrlEgress } from '../../shared/egress/egress-policy.ts';
import { InputError } from '../../shared/errors/errors.ts';

/** Check that a sink is an absolute http(s) URL without credentials that the egress policy allows. Throws `InputError` naming `sink`. */
export async function assertSinkAllowed(sink: string, policy: EgressPolicyConfig): Promise<void> {
  let url: URL;
  try {
    url = new URL(sink);
  } catch (error) {
    throw new InputError(`\`sink\` must be an absolute http(s) URL, got '${sink}'`, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(`\`sink\` must be an absolute http(s) URL, got '${sink}'`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new InputError('`sink` must not contain credentials');
  }
  const reason = await checkUrlEgress(url, policy);
  if (reason !== undefined) {
    throw new InputError(`\`sink\` is denied by the egress policy: ${reason}`);
  }
}
