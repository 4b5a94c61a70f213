-- Least privilege. Two group roles, neither of which can log in:
--   modex_migrator  owns every object of the schema. Migrations after this one run as it
--                   (chalicelib/schema.py sets the role), so what they create is its too.
--   modex_app       the application: rows only (SELECT, INSERT, UPDATE, DELETE), sequences and
--                   functions. It owns nothing, so DROP, ALTER and TRUNCATE are refused.
-- Login users are members of modex_app: in AWS the user named in the app secret, made a member
-- by the migrate step (schema.grant_app_login); the rotation's clone user inherits from it.
--
-- Roles belong to the server, not to a database, and every test run migrates a database of
-- its own on one shared server: so a role is created only when missing, and a concurrent
-- creator elsewhere (unique_violation, duplicate_object) counts as success.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'modex_migrator') THEN
        BEGIN
            CREATE ROLE modex_migrator NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'modex_app') THEN
        BEGIN
            CREATE ROLE modex_app NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    -- Whoever runs the migrations (RDS's master user) hands its objects over and then works
    -- as modex_migrator, so it must be a member. A superuser needs no membership.
    IF NOT pg_has_role(current_user, 'modex_migrator', 'MEMBER') THEN
        GRANT modex_migrator TO CURRENT_USER;
    END IF;
END
$$;

-- Nobody else may create objects here (PostgreSQL 15 revokes this already; older servers don't).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO modex_migrator;
GRANT USAGE ON SCHEMA public TO modex_app;

-- What exists now (granted while the runner still owns it; the grants follow the objects to
-- their new owner).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO modex_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO modex_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO modex_app;
-- The migration ledger is read-only to the application.
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM modex_app;

-- What later migrations create (as modex_migrator) is granted the same way, without each
-- migration having to remember it.
ALTER DEFAULT PRIVILEGES FOR ROLE modex_migrator IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO modex_app;
ALTER DEFAULT PRIVILEGES FOR ROLE modex_migrator IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO modex_app;
ALTER DEFAULT PRIVILEGES FOR ROLE modex_migrator IN SCHEMA public
    GRANT EXECUTE ON FUNCTIONS TO modex_app;

-- Hand everything the runner made in this schema to modex_migrator: tables (their indexes and
-- identity sequences follow), views, free-standing sequences, functions, enums and domains. Objects of
-- extensions and of other owners are left alone.
DO $$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT c.oid, c.relkind FROM pg_class c
        WHERE c.relnamespace = to_regnamespace('public') AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND pg_get_userbyid(c.relowner) = current_user
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO modex_migrator',
                       CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                         WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                       CAST(item.oid AS regclass));
    END LOOP;
    FOR item IN
        SELECT c.oid FROM pg_class c
        WHERE c.relnamespace = to_regnamespace('public') AND c.relkind = 'S'
          AND pg_get_userbyid(c.relowner) = current_user
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
    LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNER TO modex_migrator', CAST(item.oid AS regclass));
    END LOOP;
    FOR item IN
        SELECT p.oid FROM pg_proc p
        WHERE p.pronamespace = to_regnamespace('public') AND p.prokind IN ('f', 'p')
          AND pg_get_userbyid(p.proowner) = current_user
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO modex_migrator', CAST(item.oid AS regprocedure));
    END LOOP;
    FOR item IN
        SELECT t.oid, t.typtype FROM pg_type t
        WHERE t.typnamespace = to_regnamespace('public') AND t.typtype IN ('e', 'd')
          AND pg_get_userbyid(t.typowner) = current_user
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO modex_migrator',
                       CASE item.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, CAST(item.oid AS regtype));
    END LOOP;
END
$$;
