-- A search term that is a complete mobile number (in any typed form, made
-- E.164 by the core) is looked up here instead of in the trigram index,
-- whose trigrams of a country code and prefix are in most rows.
CREATE INDEX users_mobile ON users (tenant_id, mobile) WHERE mobile <> '';
