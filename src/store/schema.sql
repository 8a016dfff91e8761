-- The chat schema. Applied by scripts/db.sh at every start; every statement is idempotent.
CREATE TABLE IF NOT EXISTS users (
  id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  mobile     VARCHAR(21)  NOT NULL,
  passwd     VARCHAR(160) NOT NULL COMMENT 'pbkdf2-sha256$<iterations>$<hex digest>',
  salt       CHAR(32)     NOT NULL COMMENT 'hex of 16 random bytes',
  nickname   VARCHAR(32)  NOT NULL DEFAULT '',
  avatar     VARCHAR(512) NOT NULL DEFAULT '',
  sex        TINYINT      NOT NULL DEFAULT 0,
  memo       VARCHAR(255) NOT NULL DEFAULT '',
  created    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_users_mobile (mobile)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per logged-in device. Only the SHA-256 of a token is kept, so a copy of the
-- database does not let anyone act as a user.
CREATE TABLE IF NOT EXISTS tokens (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id     BIGINT UNSIGNED NOT NULL,
  token_hash  CHAR(64)    NOT NULL,
  created     DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_tokens_hash (token_hash),
  KEY k_tokens_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=ascii;

-- category 1: friend (target is a user), 2: group membership (target is a community).
CREATE TABLE IF NOT EXISTS contacts (
  id        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  owner     BIGINT UNSIGNED NOT NULL,
  target    BIGINT UNSIGNED NOT NULL,
  category  TINYINT     NOT NULL,
  created   DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_contacts (owner, category, target),
  KEY k_contacts_target (target, category)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS communities (
  id        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name      VARCHAR(64)  NOT NULL,
  owner     BIGINT UNSIGNED NOT NULL,
  icon      VARCHAR(512) NOT NULL DEFAULT '',
  memo      VARCHAR(255) NOT NULL DEFAULT '',
  category  TINYINT      NOT NULL DEFAULT 1,
  created   DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY k_communities_owner (owner)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
