package bench

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/roster-dev/roster/internal/store"
)

// Open opens the database a dataset of cfg lives in, so that runs of the same
// size share it: a postgres:// dsn gets a schema of its own named after the
// size, otherwise SQLite is used in a folder of dir named after the size.
// An earlier dataset is thrown away when fresh is set, and when the schema
// it was loaded into is no longer what the migrations make (they are edited
// in place until a release), so that figures never come from an old schema.
func Open(ctx context.Context, dsn, dir string, cfg Config, fresh bool, logf func(string, ...any)) (*store.DB, error) {
	pg := strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
	if !pg && dsn != "" {
		return nil, fmt.Errorf("bench: --db must be a postgres:// URL, or empty for SQLite (got %q)", dsn)
	}
	name := cfg.datasetName()
	open := func(fresh bool) (*store.DB, error) {
		if pg {
			dsn, err := ownSchema(ctx, dsn, cfg.schema(), fresh)
			if err != nil {
				return nil, err
			}
			return store.Open(ctx, dsn, "")
		}
		if fresh {
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				return nil, err
			}
		}
		return store.Open(ctx, "", filepath.Join(dir, name))
	}
	db, err := open(fresh)
	if err != nil || fresh {
		return db, err
	}
	have, err := fingerprint(ctx, db)
	if err != nil || len(have) == 0 {
		return db, err
	}
	want, err := migratedFingerprint(ctx, dsn)
	if err != nil {
		db.Close()
		return nil, err
	}
	if slices.Equal(have, want) {
		return db, nil
	}
	logf("the schema changed since the %s dataset was loaded: loading it again", cfg)
	db.Close()
	return open(true)
}

func (c Config) datasetName() string { return cmp.Or(c.Name, "directory") + "-" + c.String() }

func (c Config) schema() string {
	return "roster_bench_" + strings.ReplaceAll(c.datasetName(), "-", "_")
}

// DataDir is the SQLite data folder of cfg's dataset under dir (what
// `roster serve --data` takes to serve it).
func DataDir(dir string, cfg Config) string { return filepath.Join(dir, cfg.datasetName()) }

// SchemaDSN is dsn with its search_path on cfg's dataset schema (what
// `roster serve --db` takes to serve it).
func SchemaDSN(dsn string, cfg Config) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", cfg.schema()+",public")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// DefaultDir is where SQLite datasets are kept between runs.
func DefaultDir() string {
	if d := os.Getenv("ROSTER_BENCH_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "roster-bench")
	}
	return filepath.Join(os.TempDir(), "roster-bench")
}

// ownSchema creates schema (dropping it first when fresh) and returns dsn
// with its search_path pointing there; the extensions stay in public.
func ownSchema(ctx context.Context, dsn, schema string, fresh bool) (string, error) {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	if fresh {
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
			return "", fmt.Errorf("drop schema %s: %w", schema, err)
		}
	}
	for _, ext := range []string{"pg_trgm", "btree_gin"} {
		if _, err := admin.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS `+ext+` WITH SCHEMA public`); err != nil {
			return "", fmt.Errorf("create extension %s: %w", ext, err)
		}
	}
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema); err != nil {
		return "", fmt.Errorf("create schema %s: %w", schema, err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// migratedFingerprint is the fingerprint of an empty database migrated now.
func migratedFingerprint(ctx context.Context, dsn string) ([]string, error) {
	var db *store.DB
	var err error
	if dsn != "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		schema := "roster_bench_ref_" + hex.EncodeToString(b)
		ref, err := ownSchema(ctx, dsn, schema, false)
		if err != nil {
			return nil, err
		}
		defer func() {
			if admin, err := sql.Open("pgx", dsn); err == nil {
				_, _ = admin.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
				admin.Close()
			}
		}()
		db, err = store.Open(ctx, ref, "")
		if err != nil {
			return nil, err
		}
	} else {
		tmp, err := os.MkdirTemp("", "roster-bench-ref")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if db, err = store.Open(ctx, "", tmp); err != nil {
			return nil, err
		}
	}
	defer db.Close()
	if _, err = db.Migrate(ctx); err != nil {
		return nil, err
	}
	return fingerprint(ctx, db)
}

// fingerprint lists the schema's tables, columns, indexes, triggers and
// functions as text, without the dataset's own marker table; an empty
// database has none.
func fingerprint(ctx context.Context, db *store.DB) ([]string, error) {
	q := `SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master
		WHERE name <> 'bench_dataset' AND name NOT LIKE 'sqlite_stat%' ORDER BY 1`
	if db.Dialect() == store.Postgres {
		// Definitions name the schema; it differs between the two compared.
		q = `SELECT replace(d, current_schema() || '.', '') FROM (
			SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || coalesce(column_default, '') AS d
				FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> 'bench_dataset'
			UNION ALL SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
				WHERE c.relnamespace = current_schema()::regnamespace
			UNION ALL SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
				WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
			UNION ALL SELECT 'function ' || proname || ' ' || md5(prosrc) FROM pg_proc
				WHERE pronamespace = current_schema()::regnamespace) s ORDER BY 1`
	}
	rows, err := db.SQL().QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
