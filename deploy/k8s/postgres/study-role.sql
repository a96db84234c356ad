-- The trainer worker's own Postgres role (docs/adr/0025-architecture-search.md): Optuna's study
-- storage, in the schema `optuna` of the Genesis database, and nothing else. The worker runs
-- generated code, so its credentials must not reach Genesis' tables (learnings, models, jobs).
--
-- Run once per database, as a role that may create roles (the Postgres superuser, or your managed
-- service's admin), before or after the migrations (both create the schema `optuna` if missing):
--
--   psql "$ADMIN_URL" -v password="$(openssl rand -hex 24)" -f deploy/k8s/postgres/study-role.sql
--
-- then put the same password in the Secret genesis-study-storage (deploy/k8s/README.md). Safe to run
-- again: it creates what is missing, and sets the password to the one given.
\set ON_ERROR_STOP on

SELECT format('CREATE ROLE genesis_study LOGIN PASSWORD %L', :'password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'genesis_study') \gexec
ALTER ROLE genesis_study LOGIN PASSWORD :'password';
-- Optuna's tables are unqualified: they land in `optuna`, the only schema the role may write.
ALTER ROLE genesis_study SET search_path = optuna;

-- Connecting is PUBLIC's right by default; a hardened database may have revoked it.
SELECT format('GRANT CONNECT ON DATABASE %I TO genesis_study', current_database()) \gexec

CREATE SCHEMA IF NOT EXISTS optuna;
-- CREATE: the first worker creates Optuna's tables (and owns them); USAGE: the others use them.
GRANT USAGE, CREATE ON SCHEMA optuna TO genesis_study;
-- Tables the owner of the database created in `optuna` before this role existed (e.g. a worker that
-- ran with the owner's URL, as `npm start` does) become the role's, so its studies carry on.
SELECT format('ALTER TABLE optuna.%I OWNER TO genesis_study', tablename)
  FROM pg_tables WHERE schemaname = 'optuna' AND tableowner <> 'genesis_study' \gexec
SELECT format('ALTER SEQUENCE optuna.%I OWNER TO genesis_study', sequencename)
  FROM pg_sequences WHERE schemaname = 'optuna' AND sequenceowner <> 'genesis_study' \gexec
