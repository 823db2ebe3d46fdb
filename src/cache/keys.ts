// Entity keys: <prefix>:<Type>@<version>:<id>, with t=<tenant>: before the id for tenant-scoped types
// and g<generation>: for entries filed under tags (lists and counts; see tag-generations.ts). The
// version is a hash of the model's definition in prisma/schema.prisma, so a model change never reads an
// entry written in the old shape; ids are sanitised so no client input can forge a key or inject Redis
// syntax.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const SAFE_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/** Ids we build from database values are already safe; anything else is hashed into a safe form. */
export function sanitiseIdPart(id: string): string {
  return SAFE_ID.test(id) ? id : `h_${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
}

export interface KeyBuilder {
  entityKey(type: string, id: string, tenant?: string, generation?: string): string;
}

/**
 * versions maps a cache type to the model(s) whose shape it stores; a type missing from the map is
 * versioned by its own name (e.g. 'Product' -> model Product).
 */
export function createKeyBuilder(
  prefix: string,
  schemaText: string,
  modelsOf: Record<string, string[]> = {},
): KeyBuilder {
  const versions = new Map<string, string>();
  const versionOf = (type: string): string => {
    let version = versions.get(type);
    if (!version) {
      const models = modelsOf[type] ?? [type];
      const hash = createHash('sha256');
      for (const model of models) hash.update(modelBlock(schemaText, model));
      version = hash.digest('hex').slice(0, 8);
      versions.set(type, version);
    }
    return version;
  };
  return {
    entityKey(type, id, tenant, generation) {
      const tenantPart = tenant === undefined ? '' : `t=${sanitiseIdPart(tenant)}:`;
      const generationPart = generation === undefined ? '' : `${generation}:`;
      return `${prefix}:${type}@${versionOf(type)}:${generationPart}${tenantPart}${sanitiseIdPart(id)}`;
    },
  };
}

/** The text of `model Name { ... }` (or `enum Name { ... }`); empty when absent. */
function modelBlock(schemaText: string, name: string): string {
  const match = new RegExp(`^(model|enum) ${name} \\{[\\s\\S]*?^\\}`, 'm').exec(schemaText);
  return match?.[0] ?? name;
}

export function readPrismaSchemaText(): string {
  return readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8');
}
