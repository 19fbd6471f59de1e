import { access, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../../shared/errors/errors.ts';
import type { FunctionEvent } from './function-event.ts';
import type { FunctionContext } from './function-context.ts';
import { createManifestValidator, type FunctionManifest } from './function-manifest.ts';

/** File names tried, in order, for a Function's module. */
export const MODULE_FILES = ['index.ts', 'index.js', 'index.mjs'] as const;

const FUNCTION_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export type FunctionMain = (event: FunctionEvent, context: FunctionContext) => unknown;

export type LoadedFunction = { name: string; directory: string; manifest: FunctionManifest; main: FunctionMain };

async function findModule(directory: string): Promise<string | undefined> {
  for (const file of MODULE_FILES) {
    const candidate = path.join(directory, file);
    if (await access(candidate).then(() => true, () => false)) {
      return candidate;
    }
  }
  return undefined;
}

async function loadOne(directory: string, name: string, validate: ReturnType<typeof createManifestValidator>): Promise<LoadedFunction> {
  if (!FUNCTION_NAME.test(name)) {
    throw new ConfigError(`function '${name}': the folder name must be a DNS-1123 label`);
  }
  let raw: string;
  try {
    raw = await readFile(path.join(directory, 'function.json'), 'utf8');
  } catch (error) {
    throw new ConfigError(`function '${name}': cannot read function.json`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new ConfigError(`function '${name}': function.json is not valid JSON`, { cause: error });
  }
  const manifest = validate(name, parsed);

  const modulePath = await findModule(directory);
  if (modulePath === undefined) {
    throw new ConfigError(`function '${name}': no ${MODULE_FILES.join(', ')} found`);
  }
  const module = (await import(pathToFileURL(modulePath).href)) as { main?: unknown };
  if (typeof module.main !== 'function') {
    throw new ConfigError(`function '${name}': ${path.basename(modulePath)} must export a function named main`);
  }
  return { name, directory, manifest, main: module.main as FunctionMain };
}

/**
 * Load every sub-folder of `functionsDir` as a Function. Throws `ConfigError` naming the first
 * invalid Function, so the service does not start with a half-loaded set.
 */
export async function loadFunctions(functionsDir: string): Promise<LoadedFunction[]> {
  let entries;
  try {
    entries = await readdir(functionsDir, { withFileTypes: true });
  } catch (error) {
    throw new ConfigError(`cannot read the functions folder ${functionsDir}: set FERRY_FUNCTIONS_DIR`, { cause: error });
  }
  const validate = createManifestValidator();
  const functions: LoadedFunction[] = [];
  for (const entry of entries.filter((item) => item.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    functions.push(await loadOne(path.join(functionsDir, entry.name), entry.name, validate));
  }
  return functions;
}
