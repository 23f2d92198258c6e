-- A user's last sign-in time moves out of users into a narrow table of its
-- own (see the PostgreSQL migration of the same name): a sign-in writes
-- three numbers instead of a users row and its nine indexes, and no longer
-- races an administrator's edit of the user. Every user has a row, made by
-- the trigger below, so the list's last-login order is one walk of
-- user_logins_order.
CREATE TABLE user_logins (
    tenant_id      INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    last_login_at  INTEGER,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO user_logins (tenant_id, user_id, last_login_at) SELECT tenant_id, id, last_login_at FROM users;
CREATE INDEX user_logins_order ON user_logins (tenant_id, last_login_at, user_id);
CREATE TRIGGER user_logins_add AFTER INSERT ON users BEGIN
    INSERT INTO user_logins (tenant_id, user_id) VALUES (new.tenant_id, new.id);
END;

DROP INDEX users_last_login;
ALTER TABLE users DROP COLUMN last_login_at;
