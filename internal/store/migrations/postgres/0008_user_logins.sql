-- A user's last sign-in time moves out of users into a narrow table of its
-- own. Every sign-in wrote it, and users has twelve indexes (one of them
-- over last_login_at, so the update could never be HOT; another a trigram
-- GIN index): each sign-in wrote a new users row version and an entry in
-- every index. A row here is four narrow columns with two indexes; it keeps
-- a sign-in and an administrator's edit of the user from overwriting each
-- other's writes. Every user has a row, made by the trigger below, so the
-- list's last-login order is one walk of user_logins_order. The user's
-- status and home group are copied in (kept by the triggers below), so the
-- list's status tabs, group filters and a team leader's scope in that order
-- are read from the index alone.
CREATE TABLE user_logins (
    tenant_id      BIGINT NOT NULL,
    user_id        BIGINT NOT NULL,
    status         TEXT NOT NULL,
    group_id       BIGINT NOT NULL,
    last_login_at  BIGINT,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO user_logins (tenant_id, user_id, status, group_id, last_login_at)
    SELECT tenant_id, id, status, group_id, last_login_at FROM users;
CREATE INDEX user_logins_order ON user_logins (tenant_id, last_login_at NULLS FIRST, user_id) INCLUDE (status, group_id);

CREATE FUNCTION user_logins_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_logins (tenant_id, user_id, status, group_id) SELECT tenant_id, id, status, group_id FROM new_rows;
    RETURN NULL;
END $$;
CREATE TRIGGER user_logins_add AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_logins_add();
CREATE FUNCTION user_logins_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE user_logins SET status = NEW.status, group_id = NEW.group_id WHERE tenant_id = NEW.tenant_id AND user_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER user_logins_copy AFTER UPDATE ON users
    FOR EACH ROW WHEN (OLD.status <> NEW.status OR OLD.group_id <> NEW.group_id) EXECUTE FUNCTION user_logins_copy();

DROP INDEX users_last_login;
ALTER TABLE users DROP COLUMN last_login_at;
