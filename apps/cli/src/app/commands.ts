import { MODEL_ID_OPTION, type CommandSpec } from './command';

/** Every command: its usage, options and help live here; each one's code lives in its own folder. */
export const COMMANDS: CommandSpec[] = [
  {
    path: 'status',
    args: { min: 0, max: 0 },
    summary: 'the self-improvement status and whether a cycle would be triggered now',
    description:
      "The spec's training_runs and last_training_time count deployments: they read 'training runs\n" +
      "(deployed)' here, beside the trained candidates the registry holds (rejected ones included).\n" +
      "--json prints the spec's document unchanged.",
    options: { 'model-id': MODEL_ID_OPTION },
    scope: 'status:read',
    load: () => import('./status/status.command.js'),
  },
  {
    path: 'trigger',
    args: { min: 0, max: 0 },
    summary: 'open an improvement cycle now, whatever the thresholds say',
    options: {
      'model-id': MODEL_ID_OPTION,
      reason: { type: 'string', value: 'R', description: 'why (recorded in the cycle)' },
    },
    scope: 'admin',
    load: () => import('./trigger/trigger.command.js'),
  },
  {
    path: 'learnings add',
    args: { min: 0, max: 0 },
    summary: 'capture one learning',
    description:
      'A value of "-" (e.g. --correction=-) reads that field from stdin.\n' +
      'Example: genesis learnings add --kind correction --language python \\\n' +
      '           --model-output "return a - b" --correction "return a + b"',
    options: {
      kind: { type: 'string', value: 'K', description: 'correction | pattern | error_fix (required)' },
      correction: { type: 'string', value: 'TEXT', description: 'the fix or the pattern (required)' },
      context: { type: 'string', value: 'TEXT', description: 'the prompt or the surrounding code' },
      'model-output': { type: 'string', value: 'TEXT', description: 'what the model produced' },
      language: { type: 'string', value: 'L', description: 'programming language, e.g. python' },
      source: { type: 'string', value: 'S', description: 'who reports it (default "cli")' },
      'produced-by': {
        type: 'string',
        value: 'V',
        description: 'the model version that produced the output',
      },
      'model-id': MODEL_ID_OPTION,
      'idempotency-key': { type: 'string', value: 'K', description: 'makes a retry create nothing new' },
      wait: { type: 'boolean', description: 'wait until the learner stored it and print the outcome' },
    },
    scope: 'learnings:write',
    load: () => import('./learnings/add.command.js'),
  },
  {
    path: 'learnings import',
    operands: 'FILE.jsonl',
    args: { min: 1, max: 1 },
    summary: 'capture every learning of a JSON Lines file, in batches, resumably',
    description:
      'One learning (the JSON body of POST /api/v1/learnings) per line; blank lines are ignored.\n' +
      'The whole file is checked first: invalid lines are listed with their numbers and nothing is\n' +
      'sent, unless --skip-invalid. Progress is kept in FILE.jsonl.genesis-import.json: after Ctrl-C\n' +
      'or a crash, the same command continues after the last acknowledged batch, and a batch that\n' +
      'was in flight is resent with the same Idempotency-Key, so nothing is stored twice.\n' +
      'A finished import is not repeated. --restart drops that progress and sends the whole file\n' +
      'again as a new run with new Idempotency-Keys (the gateway takes every line again); the\n' +
      'learner keeps each content once per model, so lines already stored become duplicates.',
    options: {
      'batch-size': {
        type: 'string',
        value: 'N',
        description: 'learnings per request, 1–1000 (default 500)',
      },
      'skip-invalid': { type: 'boolean', description: 'send the valid lines and skip the invalid ones' },
      'dry-run': { type: 'boolean', description: 'only check the file' },
      restart: {
        type: 'boolean',
        description: 'drop the progress of an earlier run and send the whole file again (new keys)',
      },
    },
    scope: 'learnings:write',
    load: () => import('./learnings/import.command.js'),
  },
  {
    path: 'learnings rescan',
    args: { min: 0, max: 0 },
    summary: 'clean every stored learning again with the current secret rules, with a progress bar',
    description:
      'Redacts (or quarantines) what the current rules now catch in stored learnings, rebuilds or\n' +
      'deletes every dataset snapshot that held one, and marks the model versions trained on those\n' +
      'as tainted (see `genesis models`). It runs on the server and is resumable: Ctrl-C stops only\n' +
      'the watching, and a learner that dies mid-way continues where it stopped. If a rescan is\n' +
      'already running, this follows it.',
    options: {
      'model-id': { ...MODEL_ID_OPTION, description: "only this model's learnings (default: every model)" },
      reason: { type: 'string', value: 'R', description: 'why (recorded with the job and the taints)' },
      'no-wait': { type: 'boolean', description: 'print the job and return at once' },
    },
    scope: 'admin',
    load: () => import('./learnings/rescan.command.js'),
  },
  {
    path: 'learnings forget',
    operands: 'ID',
    args: { min: 1, max: 1 },
    summary: 'forget a learning on request: its text, its duplicates, its snapshots; taints models',
    description:
      'The learning and every duplicate of it become tombstones without text; every snapshot\n' +
      'holding it is rebuilt without it (or deleted), and the model versions trained on one are\n' +
      'marked tainted. Asking again for the same learning follows the first job.',
    options: {
      reason: { type: 'string', value: 'R', description: 'why (default "forgotten on request")' },
      'no-wait': { type: 'boolean', description: 'print the job and return at once' },
    },
    scope: 'admin',
    load: () => import('./learnings/forget.command.js'),
  },
  {
    path: 'learnings similar',
    operands: 'ID',
    args: { min: 1, max: 1 },
    summary: 'the accepted learnings semantically nearest to one (embedding similarity)',
    options: { k: { type: 'string', value: 'N', description: 'how many, 1–100 (default 10)' } },
    scope: 'status:read',
    load: () => import('./learnings/similar.command.js'),
  },
  {
    path: 'learnings search',
    operands: '"TEXT"',
    args: { min: 1, max: 1 },
    summary: 'the accepted learnings nearest in meaning to a text',
    options: {
      'model-id': MODEL_ID_OPTION,
      k: { type: 'string', value: 'N', description: 'how many, 1–100 (default 10)' },
    },
    scope: 'status:read',
    load: () => import('./learnings/search.command.js'),
  },
  {
    path: 'vectors rebuild',
    args: { min: 0, max: 0 },
    summary: 'rebuild the semantic index from the embeddings kept in Postgres',
    options: {},
    scope: 'admin',
    load: () => import('./vectors/rebuild.command.js'),
  },
  {
    path: 'cycles',
    operands: '[ID|latest]',
    args: { min: 0, max: 1 },
    summary: 'improvement cycles, or one cycle with its phase, training progress and evaluation',
    description:
      'With --watch, one cycle is redrawn until it ends (exit 0 when deployed or rejected, 1 when\n' +
      'failed); the list is redrawn until Ctrl-C.',
    options: {
      'model-id': MODEL_ID_OPTION,
      status: { type: 'string', value: 'S', description: 'only cycles in this state' },
      limit: { type: 'string', value: 'N', description: 'how many (default 20)' },
      watch: { type: 'boolean', short: 'w', description: 'poll and redraw' },
      interval: { type: 'string', value: 'D', description: 'poll interval for --watch (default 2s)' },
      timeout: { type: 'string', value: 'D', description: 'give up --watch after this long (exit 5)' },
    },
    scope: 'status:read',
    load: () => import('./cycles/cycles.command.js'),
  },
  {
    path: 'tasks',
    args: { min: 0, max: 0 },
    summary: "the improvement engine's tasks, newest first, with their priorities and why",
    options: {
      'model-id': MODEL_ID_OPTION,
      status: {
        type: 'string',
        value: 'S',
        description: 'queued | running | deployed | rejected | inconclusive | failed | cancelled',
      },
      kind: {
        type: 'string',
        value: 'K',
        description: 'training | architecture | optimisation | distillation',
      },
      limit: { type: 'string', value: 'N', description: 'how many (default 50)' },
    },
    scope: 'status:read',
    load: () => import('./engine/tasks.command.js'),
  },
  {
    path: 'tasks add',
    args: { min: 0, max: 0 },
    summary: 'queue a custom improvement task (it runs by its priority, also while the loop is stopped)',
    options: {
      'model-id': MODEL_ID_OPTION,
      kind: { type: 'string', value: 'K', description: 'the kind (default training)' },
      priority: { type: 'string', value: 'P', description: 'a number from 0 to 1000 (default 1)' },
      target: {
        type: 'string',
        value: 'K=V,…',
        description:
          'target metrics, recorded as met or not: accuracy, exact_match, functional_pass_rate, success_rate, bleu, perplexity, gain (e.g. accuracy=0.8; JSON too)',
      },
      constraints: {
        type: 'string',
        value: 'K=V,…',
        description:
          'limits the gate enforces (the stricter of the family and the task wins): latency_target_ms, max_size_bytes (e.g. latency_target_ms=200; JSON too)',
      },
      reason: { type: 'string', value: 'R', description: 'why (recorded in the task)' },
    },
    scope: 'admin',
    load: () => import('./engine/tasks-add.command.js'),
  },
  {
    path: 'tasks show',
    operands: 'ID',
    args: { min: 1, max: 1 },
    summary: 'one task: its priority, targets and constraints, and whether they were met',
    options: {},
    scope: 'status:read',
    load: () => import('./engine/tasks-show.command.js'),
  },
  {
    path: 'tasks cancel',
    operands: 'ID',
    args: { min: 1, max: 1 },
    summary: 'cancel a queued task (a started one runs to the end of its cycle)',
    options: {},
    scope: 'admin',
    load: () => import('./engine/tasks-cancel.command.js'),
  },
  {
    path: 'loop start',
    args: { min: 0, max: 0 },
    summary: 'start the improvement loop: automatic planning resumes with an iteration now',
    options: { reason: { type: 'string', value: 'R', description: 'why (recorded)' } },
    scope: 'admin',
    load: () => import('./engine/loop-start.command.js'),
  },
  {
    path: 'loop stop',
    args: { min: 0, max: 0 },
    summary: 'stop the improvement loop: no automatic task; running and custom tasks still run',
    options: { reason: { type: 'string', value: 'R', description: 'why (recorded)' } },
    scope: 'admin',
    load: () => import('./engine/loop-stop.command.js'),
  },
  {
    path: 'history',
    args: { min: 0, max: 0 },
    summary: 'planning iterations: tasks completed, models improved, gains, the concurrency limit',
    options: { limit: { type: 'string', value: 'N', description: 'how many (default 20)' } },
    scope: 'status:read',
    load: () => import('./engine/history.command.js'),
  },
  {
    path: 'models',
    args: { min: 0, max: 0 },
    summary: 'the model registry: versions, their status and metrics, the champion',
    options: { 'model-id': MODEL_ID_OPTION },
    scope: 'status:read',
    load: () => import('./models/models.command.js'),
  },
  {
    path: 'models show',
    operands: 'VERSION',
    args: { min: 1, max: 1 },
    summary: 'one model version: lineage, evaluation and alias history',
    options: {},
    scope: 'status:read',
    load: () => import('./models/show.command.js'),
  },
  {
    path: 'studies',
    args: { min: 0, max: 0 },
    summary: "a model's architecture studies and the training configuration it uses",
    options: { 'model-id': MODEL_ID_OPTION },
    scope: 'status:read',
    load: () => import('./studies/studies.command.js'),
  },
  {
    path: 'studies show',
    operands: 'STUDY',
    args: { min: 1, max: 1 },
    summary: 'one study: trials with parameters and validation loss, pruned count, best, importance',
    options: { 'model-id': MODEL_ID_OPTION },
    scope: 'status:read',
    load: () => import('./studies/show.command.js'),
  },
  {
    path: 'studies start',
    args: { min: 0, max: 0 },
    summary: 'start an architecture study (an architecture cycle): search the LoRA configuration',
    description:
      "The best trial's adapter goes through the same promotion gate; once deployed, its\n" +
      "configuration is what the model's later training runs use (docs/adr/0025-architecture-search.md).",
    options: {
      'model-id': MODEL_ID_OPTION,
      trials: { type: 'string', value: 'N', description: "trial budget (default: the bridge's)" },
      'worker-seconds': { type: 'string', value: 'S', description: 'worker-seconds budget' },
      reason: { type: 'string', value: 'R', description: 'why (recorded in the cycle)' },
    },
    scope: 'admin',
    load: () => import('./studies/start.command.js'),
  },
  {
    path: 'models families',
    args: { min: 0, max: 0 },
    summary: 'the registered model families (learnings for any other model are refused)',
    description:
      'Register one with POST /api/v1/models/families (admin) or in the GENESIS_MODEL_FAMILIES file.',
    options: {},
    scope: 'status:read',
    load: () => import('./models/families.command.js'),
  },
  {
    path: 'models performance',
    operands: 'MODEL_ID',
    args: { min: 1, max: 1 },
    summary: "a model's performance: the champion's current metrics and the metrics history",
    description:
      'Accuracy per suite version, latency per item, artifact size and training resources, straight\n' +
      "from the registry (GET /api/v1/models/{id}/performance: the seed's get_model_performance).",
    options: {
      limit: {
        type: 'string',
        value: 'N',
        description: 'history rows, newest first (default 200, max 1000)',
      },
    },
    scope: 'status:read',
    load: () => import('./models/performance.command.js'),
  },
  {
    path: 'rollback',
    args: { min: 0, max: 0 },
    summary: 'move the champion back (to the previous champion, or --to VERSION) and wait for it',
    options: {
      reason: { type: 'string', value: 'R', description: 'why (required; recorded in the alias history)' },
      to: { type: 'string', value: 'VERSION', description: 'the version to make champion' },
      'model-id': MODEL_ID_OPTION,
      timeout: {
        type: 'string',
        value: 'D',
        description: 'how long to wait for the outcome (default 2m; exit 5)',
      },
      'no-wait': { type: 'boolean', description: 'print the request id and return at once' },
    },
    scope: 'admin',
    load: () => import('./models/rollback.command.js'),
  },
  {
    path: 'events',
    args: { min: 0, max: 0 },
    summary: 'the event bus, one line per event (through the gateway, not NATS)',
    description:
      'Without --follow: the events of the last --since (default 10m), then exit.\n' +
      'With --follow: new events (or from --since on) until Ctrl-C; reconnects by itself.\n' +
      "Subjects: '>' (all), a family ('model.>', 'learning.*'), '*.failed', or one event subject.",
    options: {
      follow: { type: 'boolean', short: 'f', description: 'keep printing new events' },
      subject: { type: 'string', value: 'S', description: "a subject filter, e.g. 'model.>' (default: all)" },
      since: {
        type: 'string',
        value: 'T',
        description: 'start from 30s / 10m / 2h / 7d ago, an ISO time, or "all"',
      },
    },
    scope: 'status:read',
    load: () => import('./events/events.command.js'),
  },
];

export const GLOBAL_OPTIONS: CommandSpec['options'] = {
  url: {
    type: 'string',
    value: 'URL',
    description: 'the gateway (env GENESIS_URL; default http://127.0.0.1:8000)',
  },
  'api-key': {
    type: 'string',
    value: 'KEY',
    description: 'API key (env GENESIS_API_KEY; else .genesis/admin.key from `npm start`)',
  },
  json: { type: 'boolean', description: 'machine-readable JSON on stdout (errors: {"error": …})' },
  help: { type: 'boolean', short: 'h', description: 'this help' },
};
