import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CATALOGUE, STREAMS, SUBJECTS, catalogueDurables, producedBy } from '@genesis/contracts';
import { AUTH_CONF_PATH, HELM_VALUES_PATH, renderAuthConf, renderHelmValues } from './nats-auth-conf';
import { NATS_USERS, consumersOf, natsPasswordVariable, natsPermissions } from './nats-permissions';
import { CONSUMER_CONFIGS } from './topology';

const REPO = join(__dirname, '..', '..', '..', '..');
const spec = (user: string) => NATS_USERS.find((u) => u.user === user)!;
const publishes = (user: string) => natsPermissions(spec(user))!.publish;

describe('NATS permissions', () => {
  it(`${AUTH_CONF_PATH} and ${HELM_VALUES_PATH} are rendered from nats-permissions.ts (npm run nats:auth)`, () => {
    assert.equal(readFileSync(join(REPO, AUTH_CONF_PATH), 'utf8'), renderAuthConf());
    assert.equal(readFileSync(join(REPO, HELM_VALUES_PATH), 'utf8'), renderHelmValues());
  });

  it('the Helm values carry auth.conf unchanged, and a password for every user', () => {
    const values = parse(renderHelmValues()) as {
      config: { merge: Record<string, string> };
      configMap: { merge: { data: Record<string, string> } };
      container: { env: Record<string, { valueFrom: { secretKeyRef: { key: string } } }> };
    };
    assert.equal(values.config.merge['$include'], 'auth.conf');
    assert.equal(values.configMap.merge.data['auth.conf'], renderAuthConf());
    assert.deepEqual(
      Object.keys(values.container.env),
      NATS_USERS.map((u) => natsPasswordVariable(u.user)),
    );
  });

  it('every durable consumer belongs to exactly one user', () => {
    const owned = NATS_USERS.flatMap((u) => consumersOf(u.user).map((c) => c.durable));
    assert.deepEqual(owned.sort(), CONSUMER_CONFIGS.map((c) => c.config.durable_name).sort());
  });

  it('no service user gets JetStream administration or wildcards over events', () => {
    for (const u of NATS_USERS.filter((x) => !x.admin)) {
      for (const subject of publishes(u.user)) {
        assert.doesNotMatch(
          subject,
          /^\$JS\.API\.(STREAM\.(CREATE|UPDATE|DELETE)|CONSUMER\.DURABLE)/,
          u.user,
        );
        // The event reader (the gateway's event stream) creates and deletes consumers of its own on
        // GENESIS_EVENTS only; every provisioned durable is denied to it (next test).
        if (!(
          u.eventReader &&
          subject.startsWith(`$JS.API.CONSUMER.`) &&
          subject.includes('.GENESIS_EVENTS')
        ))
          assert.doesNotMatch(subject, /^\$JS\.API\.CONSUMER\.(CREATE|DELETE)\.GENESIS_/, u.user);
        assert.ok(!subject.startsWith('>') && !/^[a-z_]+\.(>|\*)$/.test(subject), `${u.user}: ${subject}`);
      }
    }
  });

  it('an event reader is denied every provisioned durable on GENESIS_EVENTS', () => {
    const readers = NATS_USERS.filter((u) => u.eventReader);
    assert.deepEqual(
      readers.map((u) => u.user),
      ['gateway'],
    );
    const deny = natsPermissions(readers[0]!)!.publishDeny ?? [];
    for (const c of CONSUMER_CONFIGS.filter((x) => x.stream === STREAMS.events)) {
      for (const op of ['MSG.NEXT', 'DELETE', 'CREATE'])
        assert.ok(
          deny.includes(`$JS.API.CONSUMER.${op}.${STREAMS.events}.${c.config.durable_name}`),
          `${op} ${c.config.durable_name}`,
        );
    }
  });

  it('the gateway cannot announce deployments; the worker publishes only its own phases', () => {
    assert.ok(!publishes('gateway').includes(SUBJECTS.modelDeployed));
    const events = publishes('trainer-worker').filter((s) => !s.startsWith('$'));
    assert.deepEqual(events.sort(), [
      'evaluation.completed',
      'evaluation.failed',
      'study.trial.finished', // a trial's answer (ADR 0025)
      'training.completed',
      'training.failed',
      'training.progress',
      'workers.heartbeat',
    ]);
  });

  it("the durable consumers are the subject catalogue's, one per consumer of a stored subject (ADR 0026)", () => {
    const provisioned = CONSUMER_CONFIGS.filter((c) => c.stream !== STREAMS.dlq).map((c) =>
      [c.stream, c.config.durable_name, c.config.filter_subject].join(' '),
    );
    const declared = catalogueDurables().map((d) => [d.stream, d.durable, d.subject].join(' '));
    assert.deepEqual(
      provisioned.sort(),
      declared.sort(),
      'topology.ts CONSUMER_CONFIGS and libs/contracts/src/catalogue.ts must name the same consumers',
    );
  });

  it('each user publishes exactly its subjects of the catalogue', () => {
    for (const u of NATS_USERS.filter((x) => !x.admin)) {
      const events = natsPermissions(u)!.publish.filter((s) => CATALOGUE.some((r) => r.subject === s));
      assert.deepEqual(
        events.sort(),
        producedBy(u.user, 'event', 'job', 'request', 'broadcast').sort(),
        u.user,
      );
    }
  });

  it('password variables are distinct and valid shell names', () => {
    const names = NATS_USERS.map((u) => natsPasswordVariable(u.user));
    assert.equal(new Set(names).size, names.length);
    for (const n of names) assert.match(n, /^NATS_[A-Z0-9_]+_PASSWORD$/);
    assert.equal(natsPasswordVariable('trainer-bridge'), 'NATS_TRAINER_BRIDGE_PASSWORD');
  });
});
