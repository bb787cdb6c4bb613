// Who opened a session, as its per-session child may learn it (a server's `callerEnv`): the verified subject
// of a bearer token, or a key's name, in one variable, and a token's issuer beside it. Pure. Never the
// credential itself: a child that knows who calls still cannot call anything as them.

/** The environment a session's child gets for `principal` (a key's name, `oauth:<issuer>#<subject>`, or '' without keys). */
export function callerEnvironment(variable: string | undefined, principal: string | undefined): Record<string, string> {
  if (variable === undefined || principal === undefined || principal === '') return {};
  if (principal.startsWith('oauth:')) {
    // The issuer holds no `#` (a fragment is refused in an issuer): the subject is everything after the first.
    const rest = principal.slice('oauth:'.length);
    const cut = rest.indexOf('#');
    return { [variable]: rest.slice(cut + 1), [`${variable}_ISSUER`]: rest.slice(0, cut) };
  }
  return { [variable]: principal };
}
