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

-- Message history. `pos` is the message's place in the cluster's one stream: every commit
-- takes the next positions from message_seq under its row lock, so positions are gap-free
-- and a transaction that holds larger ones commits after every transaction holding smaller
-- ones (a reader that has seen position p can never later find a new one below p).
-- `frame` is the message as clients receive it, without its "pos" (added when it is sent).
-- Single chats: conv_a/conv_b are the two users, smaller first; groups: the group and 0.
CREATE TABLE IF NOT EXISTS messages (
  pos       BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  id        BIGINT UNSIGNED NOT NULL COMMENT 'the id the sender''s node stamped',
  sender    BIGINT UNSIGNED NOT NULL,
  kind      TINYINT         NOT NULL COMMENT '1 single, 2 group',
  target    BIGINT UNSIGNED NOT NULL COMMENT 'dstid: a user or a group',
  conv_a    BIGINT UNSIGNED NOT NULL,
  conv_b    BIGINT UNSIGNED NOT NULL,
  media     INT             NOT NULL,
  createat  BIGINT          NOT NULL COMMENT 'ms since the Unix epoch, from the sender''s node',
  frame     MEDIUMTEXT      NOT NULL,
  KEY k_messages_conv (kind, conv_a, conv_b, pos),
  KEY k_messages_to (kind, target, pos),
  KEY k_messages_from (sender, kind, pos),
  KEY k_messages_time (createat)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The latest position taken. One row; its lock orders the commits of every node.
CREATE TABLE IF NOT EXISTS message_seq (
  id   TINYINT         NOT NULL PRIMARY KEY,
  pos  BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB;
INSERT IGNORE INTO message_seq (id, pos) VALUES (1, 0);

-- Each node's latest start, its incarnation on the cluster bus (RunRegistry): a restart must
-- outnumber the run before it even when the clock has been set back in between.
CREATE TABLE IF NOT EXISTS node_runs (
  node         INT UNSIGNED    NOT NULL PRIMARY KEY,
  incarnation  BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB;

-- How far each user has read each conversation (kind 1: peer is a user, 2: a group);
-- shared by all of the user's devices.
CREATE TABLE IF NOT EXISTS read_marks (
  user_id  BIGINT UNSIGNED NOT NULL,
  kind     TINYINT         NOT NULL,
  peer     BIGINT UNSIGNED NOT NULL,
  pos      BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (user_id, kind, peer)
) ENGINE=InnoDB;

-- A join takes a stream position of its own (ContactRepository::join); the member sees the
-- group's messages after it. A node that missed the join's datagram finds it by that position.
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS joined_pos BIGINT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD INDEX IF NOT EXISTS k_contacts_joined (joined_pos);
