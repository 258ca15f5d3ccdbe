/**
 * Credentials never reach a log line or an error message. Every credential comes from the environment: the values
 * of variables whose names say so (PASSWORD, SECRET, TOKEN, ..._KEY) and the passwords in URL-valued variables
 * (`postgres://user:password@host`). `redactText` replaces each of those values, and any URL's password, with `***`.
 * The runtime's loggers pass every line through it; the CLI its one-line errors.
 */

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|_KEY$|_KEY_)/i;
/** Shorter values would hide ordinary words and numbers; no real credential is this short. */
const MIN_SECRET_LENGTH = 6;
/** A URL's userinfo password: `scheme://user:password@`. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@/?#\s]+)@/gi;

/** The credential values `env` holds, longest first (so a secret holding another is replaced whole). */
export function secretValues(env: NodeJS.ProcessEnv = process.env): string[] {
  const found = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (SECRET_NAME.test(name) && value.length >= MIN_SECRET_LENGTH) found.add(value);
    for (const match of value.matchAll(URL_PASSWORD)) {
      const password = match[2] as string;
      found.add(password);
      try {
        found.add(decodeURIComponent(password));
      } catch {
        // not percent-encoded: as written
      }
    }
  }
  return [...found].filter((v) => v.length >= 3).sort((a, b) => b.length - a.length);
}

let cached: string[] | undefined;

/** `text` with every credential of the environment, and every URL's password, replaced by `***`. */
export function redactText(text: string, secrets: readonly string[] = currentSecrets()): string {
  let out = text.replace(URL_PASSWORD, "$1***@");
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join("***");
  return out;
}

/** The process's credentials, read once: they come from the environment it started with. */
function currentSecrets(): string[] {
  cached ??= secretValues(process.env);
  return cached;
}
