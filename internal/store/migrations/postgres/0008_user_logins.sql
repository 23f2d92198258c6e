-- A user's last sign-in time moves out of users into a narrow table of its
-- own. Every sign-in wrote it, and users has twelve indexes (one of them
-- over last_login_at, so the update could never be HOT; another a trigram
-- GIN index): each sign-in wrote a new users row version and an entry in
-- every index. A row here is three numbers with two indexes; it also keeps
-- a sign-in and an administrator's edit of the user from overwriting each
-- other's writes. Every user has a row, made by the trigger below, so the
-- list's last-login order is one walk of user_logins_order. The user's
-- status is copied in (kept by the triggers below), so the list's status
-- tabs in that order are read from the index alone.
CREATE TABLE user_logins (
    tenant_id      BIGINT NOT NULL,
    user_id        BIGINT NOT NULL,
    status         TEXT NOT NULL,
    last_login_at  BIGINT,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO user_logins (tenant_id, user_id, status, last_login_at) SELECT tenant_id, id, status, last_login_at FROM users;
CREATE INDEX user_logins_order ON user_logins (tenant_id, last_login_at NULLS FIRST, user_id) INCLUDE (status);

CREATE FUNCTION user_logins_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_logins (tenant_id, user_id, status) SELECT tenant_id, id, status FROM new_rows;
    RETURN NULL;
END $$;
CREATE TRIGGER user_logins_add AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_logins_add();
CREATE FUNCTION user_logins_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE user_logins SET status = NEW.status WHERE tenant_id = NEW.tenant_id AND user_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER user_logins_status AFTER UPDATE ON users
    FOR EACH ROW WHEN (OLD.status <> NEW.status) EXECUTE FUNCTION user_logins_status();

DROP INDEX users_last_login;
ALTER TABLE users DROP COLUMN last_login_at;
