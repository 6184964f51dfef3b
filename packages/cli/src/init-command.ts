import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { EXIT, type Io } from './program.js';

/** The scaffold's files; `sync.yaml` gets the schema line for the editor first. */
function scaffold(schemaPath: string): Record<string, string> {
  return {
    'sync.yaml': `# yaml-language-server: $schema=${schemaPath}
# A Syncline sync: the rows of a SQL model, sent to Knock users. Only what changed since the last run is sent.
#   syncline plan sync.yaml       dry run: what would be sent; sends nothing, changes nothing
#   syncline run sync.yaml        send the changes; the ledger in .syncline/ remembers what Knock confirmed
#   syncline validate sync.yaml   check this file, the model's columns and every row, without sending
name: users
source:
  type: duckdb
  tables:
    users: ./users.csv            # CSV, Parquet and JSON files become tables of the model
model: |
  select id, email, full_name, phone, plan
  from users
key: id                           # the column that matches a row to a Knock user id
destination:
  type: knock                     # the API key comes from KNOCK_API_KEY (environment or ./.env), never from this file
sync:
  type: users                     # users | objects | audiences
  fields:                         # Knock field: model column
    email: email
    name: full_name
    phone_number: phone           # E.164, e.g. +14155550100
    plan: plan                    # a name Knock does not know becomes a custom property
  onDelete: nothing               # nothing | delete: what happens in Knock when a row leaves the model
# schedule: "*/15 * * * *"        # for \`syncline schedule\`; { every: 15m } works too
# alerts:                         # when a run fails or recovers (docs/alerts.md); or in syncline.yaml for the folder
#   - { channel: slack, url: "\${SLACK_WEBHOOK_URL}", on: [failed, recovered] }
`,
    'users.csv': `id,email,full_name,phone,plan
u_001,ada@example.com,Ada Lovelace,+14155550101,pro
u_002,grace@example.com,Grace Hopper,+14155550102,free
u_003,alan@example.com,Alan Turing,,pro
u_004,katherine@example.com,Katherine Johnson,+14155550104,team
u_005,edsger@example.com,Edsger Dijkstra,+31205550105,free
`,
    '.env.example': `# Copy to .env (git-ignored) and fill in; Syncline reads ./.env from the folder it runs in.
KNOCK_API_KEY=sk_test_replace_me
# A local Knock for trying things out: run \`syncline emulator --port 3100\` and uncomment:
# KNOCK_BASE_URL=http://127.0.0.1:3100
`,
    '.gitignore': `.env
.syncline/
`,
  };
}

/**
 * `syncline init [dir]`: scaffolds a working sync (a commented config with the JSON Schema line for editors,
 * sample data, `.env.example`, `.gitignore`). Writes nothing if one of the files exists, unless `--force`.
 */
export function registerInitCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('init [dir]')
    .description('scaffold a sync in DIR (default .): sync.yaml, sample data, .env.example')
    .option('--force', 'overwrite files that exist')
    .action((dir: string | undefined, flags: { force?: boolean }) => {
      const target = dir ?? '.';
      const schema = fileURLToPath(new URL('../schema/sync.schema.json', import.meta.url));
      const files = scaffold(relative(target, schema) || schema);
      const existing = Object.keys(files).filter((f) => existsSync(join(target, f)));
      if (existing.length > 0 && !flags.force) {
        io.stderr.write(
          `Error: ${existing.map((f) => join(target, f)).join(', ')} already exist${existing.length === 1 ? 's' : ''}; nothing was written (--force overwrites)\n`,
        );
        return setExit(EXIT.usage);
      }
      mkdirSync(target, { recursive: true });
      for (const [name, text] of Object.entries(files)) writeFileSync(join(target, name), text);
      const config = join(target, 'sync.yaml');
      io.stdout.write(
        `Created ${Object.keys(files)
          .map((f) => join(target, f))
          .join(', ')}\nNext:\n` +
          `  syncline emulator --port 3100 &                  # a local Knock (or set KNOCK_API_KEY for yours)\n` +
          `  export KNOCK_BASE_URL=http://127.0.0.1:3100 KNOCK_API_KEY=sk_test_local\n` +
          `  syncline plan ${config}\n`,
      );
      setExit(EXIT.ok);
    });
}
