-- A user's last sign-in time moves out of users into a narrow table of its
-- own (see the PostgreSQL migration of the same name): a sign-in writes
-- a narrow row instead of a users row and its nine indexes, and no longer
-- races an administrator's edit of the user. Every user has a row, made by
-- the trigger below, so the list's last-login order is one walk of
-- user_logins_order. The user's status and home group are copied in (kept
-- by the triggers below), so the list's status tabs, group filters and a
-- team leader's scope in that order are read from the index alone.
CREATE TABLE user_logins (
    tenant_id      INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    status         TEXT NOT NULL,
    group_id       INTEGER NOT NULL,
    last_login_at  INTEGER,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO user_logins (tenant_id, user_id, status, group_id, last_login_at)
    SELECT tenant_id, id, status, group_id, last_login_at FROM users;
CREATE INDEX user_logins_order ON user_logins (tenant_id, last_login_at, user_id, status, group_id);
CREATE TRIGGER user_logins_add AFTER INSERT ON users BEGIN
    INSERT INTO user_logins (tenant_id, user_id, status, group_id) VALUES (new.tenant_id, new.id, new.status, new.group_id);
END;
CREATE TRIGGER user_logins_copy AFTER UPDATE OF status, group_id ON users
    WHEN old.status IS NOT new.status OR old.group_id IS NOT new.group_id BEGIN
    UPDATE user_logins SET status = new.status, group_id = new.group_id WHERE tenant_id = new.tenant_id AND user_id = new.id;
END;

DROP INDEX users_last_login;
ALTER TABLE users DROP COLUMN last_login_at;
