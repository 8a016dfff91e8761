// The message history against a real MariaDB (CHAT_TEST_MYSQL): positions are gap-free and
// follow commit order, a user's stream holds exactly their messages, history pages walk back
// without overlap or hole, and unread counts follow read marks.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "StoreTestSupport.hpp"
#include "store/CommunityRepository.hpp"
#include "store/ContactRepository.hpp"
#include "store/MessageRepository.hpp"
#include "store/MessageWriter.hpp"
#include "store/UserRepository.hpp"

namespace chat::store {
namespace {

using namespace std::chrono_literals;

class MessageHistory : public test::ConnectedTest {
protected:
    static NewMessage message(std::int64_t from, ConversationKind kind, std::int64_t to, const std::string& text) {
        return {1, from, kind, to, 1, 1700000000000, R"({"content":")" + text + R"("})"};
    }

    // Stores the messages in one transaction; returns their positions.
    std::vector<std::uint64_t> store(const std::vector<NewMessage>& batch) {
        Transaction t(db());
        auto first = repo().append(batch);
        t.commit();
        std::vector<std::uint64_t> positions;
        for (std::size_t i = 0; i < batch.size(); ++i) positions.push_back(first + i);
        return positions;
    }

    static std::vector<std::uint64_t> positionsOf(const std::vector<StoredMessage>& messages) {
        std::vector<std::uint64_t> out;
        for (const auto& m : messages) out.push_back(m.pos);
        return out;
    }

    // Joins in a transaction of its own, as the API does; returns the join's position.
    std::optional<std::uint64_t> join(std::int64_t user, std::int64_t group) {
        Transaction t(db());
        auto pos = ContactRepository(db()).join(user, group);
        t.commit();
        return pos;
    }

    MessageRepository repo() { return MessageRepository(db()); }
};

TEST_F(MessageHistory, ABatchTakesConsecutivePositionsAfterTheLatestCommitted) {
    auto a = newUser(), b = newUser();
    auto before = repo().committedPosition();
    auto positions = store({message(a, ConversationKind::Single, b, "1"), message(b, ConversationKind::Single, a, "2"),
                            message(a, ConversationKind::Single, b, "3")});
    EXPECT_GT(positions[0], before);
    EXPECT_EQ(positions[2], positions[0] + 2);
    EXPECT_GE(repo().committedPosition(), positions[2]);
    auto stored = repo().range(positions[0], positions[2]);
    ASSERT_EQ(positionsOf(stored), positions);
    EXPECT_EQ(stored[1].sender, b);
    EXPECT_EQ(stored[1].frame, R"({"content":"2"})");
}

TEST_F(MessageHistory, ABatchOfAnySizeIsStoredWholeAndInOrderAcrossItsInsertStatements) {
    auto a = newUser(), b = newUser();
    for (std::size_t size : {1u, 7u, 64u, 65u, 150u}) {
        std::vector<NewMessage> batch;
        for (std::size_t i = 0; i < size; ++i)
            batch.push_back(message(a, ConversationKind::Single, b, std::to_string(size) + "-" + std::to_string(i)));
        auto positions = store(batch);
        ASSERT_EQ(positions.size(), size);
        auto stored = repo().range(positions.front(), positions.back());
        ASSERT_EQ(stored.size(), size) << "a batch of " << size;
        for (std::size_t i = 0; i < size; ++i) {
            EXPECT_EQ(stored[i].pos, positions.front() + i);
            EXPECT_EQ(stored[i].frame, R"({"content":")" + std::to_string(size) + "-" + std::to_string(i) + R"("})");
        }
    }
}

TEST_F(MessageHistory, AppendCommittedStoresBatchesOfAnySizeInOrderAndCommitsThem) {
    auto a = newUser(), b = newUser();
    Connection other(*url_, 5s);                         // sees only what was committed
    for (std::size_t size : {1u, 2u, 64u, 65u, 150u}) {  // one round trip up to 64, then the long way
        std::vector<NewMessage> batch;
        for (std::size_t i = 0; i < size; ++i)
            batch.push_back(message(a, ConversationKind::Single, b, std::to_string(size) + "/" + std::to_string(i)));
        auto before = repo().committedPosition();
        auto first = repo().appendCommitted(batch);
        EXPECT_FALSE(db().inTransaction()) << "a batch of " << size;
        EXPECT_EQ(first, before + 1) << "a batch of " << size;
        auto stored = MessageRepository(other).range(first, first + size - 1);
        ASSERT_EQ(stored.size(), size) << "a batch of " << size;
        for (std::size_t i = 0; i < size; ++i) {
            EXPECT_EQ(stored[i].pos, first + i);
            EXPECT_EQ(stored[i].frame, R"({"content":")" + std::to_string(size) + "/" + std::to_string(i) + R"("})");
        }
        EXPECT_EQ(MessageRepository(other).committedPosition(), first + size - 1);
    }
}

TEST_F(MessageHistory, AppendCommittedStoresAFewHugeFramesTheLongWay) {
    auto a = newUser(), b = newUser();
    // Over 4 MiB together, so more than one INSERT and more than one packet to MariaDB.
    std::vector<NewMessage> batch;
    for (char c : {'x', 'y', 'z'})
        batch.push_back(message(a, ConversationKind::Single, b, std::string(1536u << 10, c)));
    auto first = repo().appendCommitted(batch);
    EXPECT_FALSE(db().inTransaction());
    auto stored = repo().range(first, first + 2);
    ASSERT_EQ(stored.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(stored[i].frame, batch[i].frame);
}

TEST_F(MessageHistory, AppendCommittedThatFailsStoresNoneOfTheBatchAndLeavesNoHole) {
    auto a = newUser(), b = newUser();
    for (std::size_t size : {3u, 70u}) {
        auto before = repo().committedPosition();
        std::vector<NewMessage> batch(size, message(a, ConversationKind::Single, b, "doomed"));
        batch.back().sender = -1;  // out of range for the unsigned column: the INSERT fails
        EXPECT_THROW(repo().appendCommitted(batch), DbError) << "a batch of " << size;
        EXPECT_FALSE(db().inTransaction());
        EXPECT_EQ(repo().committedPosition(), before);
        EXPECT_TRUE(repo().range(before + 1, before + size).empty());
        auto next = repo().appendCommitted({message(a, ConversationKind::Single, b, "next")});
        EXPECT_EQ(next, before + 1) << "the connection works on, and the failed batch left no hole";
    }
}

TEST_F(MessageHistory, ARolledBackBatchLeavesNoHoleInThePositions) {
    auto a = newUser(), b = newUser();
    auto before = repo().committedPosition();
    {
        Transaction t(db());
        repo().append({message(a, ConversationKind::Single, b, "lost")});
    }  // rolled back: its position is given back
    auto kept = store({message(a, ConversationKind::Single, b, "kept")});
    EXPECT_EQ(kept[0], before + 1);
    EXPECT_EQ(repo().range(before + 1, before + 1).at(0).frame, R"({"content":"kept"})");
}

TEST_F(MessageHistory, AUsersStreamHoldsSinglesBothWaysAndGroupsSinceJoining) {
    auto me = newUser(), friendId = newUser(), stranger = newUser(), owner = newUser();
    auto group = CommunityRepository(db()).create(owner, "g", "", "").community.id;
    auto early = store({message(owner, ConversationKind::Group, group, "before I joined")});
    join(me, group);
    auto mine = store({message(friendId, ConversationKind::Single, me, "to me"),
                       message(me, ConversationKind::Single, friendId, "from me"),
                       message(stranger, ConversationKind::Single, friendId, "not mine"),
                       message(owner, ConversationKind::Group, group, "group"),
                       message(me, ConversationKind::Single, me, "note to self")});
    auto stream = repo().streamAfter(me, early[0] - 1, 100);
    EXPECT_EQ(positionsOf(stream), (std::vector<std::uint64_t>{mine[0], mine[1], mine[3], mine[4]}));
    // Paging: the same stream in pages of two, each after the last position held.
    std::vector<std::uint64_t> paged;
    std::uint64_t after = early[0] - 1;
    for (;;) {
        auto page = repo().streamAfter(me, after, 2);
        if (page.empty()) break;
        for (const auto& m : page) paged.push_back(m.pos);
        after = page.back().pos;
    }
    EXPECT_EQ(paged, positionsOf(stream));
}

// A user in no group gets the cheaper query; their stream is the same either way.
TEST_F(MessageHistory, TheSinglesOnlyQueriesGiveTheSameStreamToAUserInNoGroup) {
    using Parts = MessageRepository::StreamParts;
    auto me = newUser(), other = newUser(), owner = newUser();
    auto group = CommunityRepository(db()).create(owner, "g", "", "").community.id;
    std::vector<NewMessage> batch;
    for (int i = 0; i < 4; ++i) {
        batch.push_back(message(other, ConversationKind::Single, me, "to me " + std::to_string(i)));
        batch.push_back(message(me, ConversationKind::Single, other, "from me " + std::to_string(i)));
        batch.push_back(message(owner, ConversationKind::Group, group, "not my group"));
    }
    auto positions = store(batch);
    const auto before = positions[0] - 1;
    auto all = repo().streamAfter(me, before, 100, Parts::All);
    EXPECT_EQ(all.size(), 8u);
    EXPECT_EQ(positionsOf(repo().streamAfter(me, before, 100, Parts::SinglesOnly)), positionsOf(all));
    EXPECT_EQ(positionsOf(repo().streamAfter(me, positions[4], 3, Parts::SinglesOnly)),
              positionsOf(repo().streamAfter(me, positions[4], 3, Parts::All)));
    EXPECT_EQ(repo().recentStart(me, 5, Parts::SinglesOnly), repo().recentStart(me, 5, Parts::All));
    EXPECT_EQ(positionsOf(repo().recent(me, 5, Parts::SinglesOnly)), positionsOf(repo().recent(me, 5, Parts::All)));
    // Once in the group, only the full query has the group's messages since the join.
    join(me, group);
    auto later = store({message(owner, ConversationKind::Group, group, "now mine")});
    EXPECT_EQ(positionsOf(repo().recent(me, 1, Parts::All)), later);
    EXPECT_NE(positionsOf(repo().recent(me, 1, Parts::SinglesOnly)), later);
}

// A connection reads its groups and the committed position first, its stream after: what
// commits in between arrives live, so every read of the stream stops at that position.
TEST_F(MessageHistory, AStreamReadStopsAtTheCommittedPositionItIsGiven) {
    using Parts = MessageRepository::StreamParts;
    auto me = newUser(), other = newUser(), owner = newUser();
    auto group = CommunityRepository(db()).create(owner, "g", "", "").community.id;
    join(me, group);
    std::vector<NewMessage> batch;
    for (int i = 0; i < 3; ++i) {
        batch.push_back(message(other, ConversationKind::Single, me, "to me " + std::to_string(i)));
        batch.push_back(message(me, ConversationKind::Single, other, "from me " + std::to_string(i)));
        batch.push_back(message(owner, ConversationKind::Group, group, "in my group " + std::to_string(i)));
    }
    auto positions = store(batch);
    const auto before = positions[0] - 1, bound = positions[4];
    const std::vector<std::uint64_t> upToBound(positions.begin(), positions.begin() + 5);
    EXPECT_EQ(positionsOf(repo().streamAfter(me, before, 100, Parts::All, bound)), upToBound);
    EXPECT_EQ(positionsOf(repo().recent(me, 100, Parts::All, bound)), upToBound);
    EXPECT_EQ(positionsOf(repo().recent(me, 2, Parts::All, bound)),
              (std::vector<std::uint64_t>{positions[3], positions[4]}));
    EXPECT_EQ(repo().recentStart(me, 2, Parts::All, bound), positions[2]);
    EXPECT_EQ(positionsOf(repo().streamAfter(me, before, 100, Parts::SinglesOnly, bound)),
              (std::vector<std::uint64_t>{positions[0], positions[1], positions[3], positions[4]}));
    // Without a bound, the read goes up to the latest committed position.
    EXPECT_EQ(positionsOf(repo().streamAfter(me, before, 100)), positions);
}

TEST_F(MessageHistory, RecentStartLeavesTheNewestMessages) {
    auto me = newUser(), other = newUser();
    std::vector<NewMessage> batch;
    for (int i = 0; i < 5; ++i) batch.push_back(message(other, ConversationKind::Single, me, std::to_string(i)));
    auto positions = store(batch);
    auto start = repo().recentStart(me, 3);
    EXPECT_EQ(start, positions[1]);
    EXPECT_EQ(positionsOf(repo().streamAfter(me, start, 100)),
              (std::vector<std::uint64_t>{positions[2], positions[3], positions[4]}));
    EXPECT_EQ(repo().recentStart(me, 10), 0u);
    // The same newest messages in one query, oldest first.
    EXPECT_EQ(positionsOf(repo().recent(me, 3)),
              (std::vector<std::uint64_t>{positions[2], positions[3], positions[4]}));
    EXPECT_EQ(positionsOf(repo().recent(me, 10)), positions);
    EXPECT_TRUE(repo().recent(newUser(), 10).empty());
}

TEST_F(MessageHistory, MembershipsNameTheGroupsAndWhereTheStreamStood) {
    auto owner = newUser(), me = newUser();
    auto g1 = CommunityRepository(db()).create(owner, "g1", "", "").community.id;
    auto g2 = CommunityRepository(db()).create(owner, "g2", "", "").community.id;
    join(me, g2);
    join(me, g1);
    auto m = ContactRepository(db()).memberships(me);
    EXPECT_EQ(m.groups, (std::vector<std::int64_t>{g1, g2}));
    EXPECT_EQ(m.streamPosition, repo().committedPosition());
    auto none = ContactRepository(db()).memberships(newUser());
    EXPECT_TRUE(none.groups.empty());
    EXPECT_EQ(none.streamPosition, repo().committedPosition());
}

// A connecting device's groups, the committed position and its first page: one statement for a
// user in no group; for one in groups, the group part follows, bounded by that position.
TEST_F(MessageHistory, TheOpeningReadHoldsTheGroupsThePositionAndTheFirstPage) {
    auto owner = newUser(), me = newUser(), other = newUser();
    auto g1 = CommunityRepository(db()).create(owner, "g1", "", "").community.id;
    auto g2 = CommunityRepository(db()).create(owner, "g2", "", "").community.id;
    auto beforeJoin = store({message(owner, ConversationKind::Group, g1, "before I joined")});
    join(me, g2);
    join(me, g1);
    std::vector<NewMessage> batch;
    for (int i = 0; i < 3; ++i) {
        batch.push_back(message(other, ConversationKind::Single, me, "to me " + std::to_string(i)));
        batch.push_back(message(owner, ConversationKind::Group, g1, "in g1 " + std::to_string(i)));
        batch.push_back(message(owner, ConversationKind::Single, other, "not mine " + std::to_string(i)));
        batch.push_back(message(me, ConversationKind::Single, other, "from me " + std::to_string(i)));
    }
    auto positions = store(batch);

    auto newest = repo().opening(me, std::nullopt, 4);
    EXPECT_EQ(newest.groups, (std::vector<std::int64_t>{g1, g2}));
    EXPECT_EQ(newest.committed, repo().committedPosition());
    EXPECT_EQ(positionsOf(newest.messages),
              (std::vector<std::uint64_t>{positions[7], positions[8], positions[9], positions[11]}));
    EXPECT_EQ(positionsOf(newest.messages), positionsOf(repo().recent(me, 4)));
    auto after = repo().opening(me, beforeJoin[0], 100);
    EXPECT_EQ(positionsOf(after.messages), positionsOf(repo().streamAfter(me, beforeJoin[0], 100)));
    EXPECT_EQ(after.messages.size(), 9u);  // three of each of my parts, none of the others'
    EXPECT_EQ(after.groups, newest.groups);

    auto stranger = repo().opening(newUser(), std::nullopt, 10);
    EXPECT_TRUE(stranger.groups.empty());
    EXPECT_TRUE(stranger.messages.empty());
    EXPECT_EQ(stranger.committed, repo().committedPosition());
}

TEST_F(MessageHistory, HistoryPagesWalkBackWithoutOverlapOrHole) {
    auto a = newUser(), b = newUser(), c = newUser();
    std::vector<NewMessage> batch;
    for (int i = 0; i < 23; ++i) {
        batch.push_back(message(i % 2 ? a : b, ConversationKind::Single, i % 2 ? b : a, std::to_string(i)));
        batch.push_back(message(c, ConversationKind::Single, a, "other conversation"));
    }
    auto positions = store(batch);
    std::vector<std::uint64_t> expected;
    for (std::size_t i = 0; i < positions.size(); i += 2) expected.push_back(positions[i]);

    std::vector<std::uint64_t> walked;
    std::optional<std::uint64_t> before;
    for (int pages = 0; pages < 10; ++pages) {
        auto page = repo().history(a, {ConversationKind::Single, b}, before, 5);
        ASSERT_TRUE(page.has_value());
        auto got = positionsOf(page->messages);
        EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
        walked.insert(walked.begin(), got.begin(), got.end());
        if (!page->more) break;
        before = got.front();
    }
    EXPECT_EQ(walked, expected);
    // Seen from the other side, the conversation is the same.
    EXPECT_EQ(positionsOf(repo().history(b, {ConversationKind::Single, a}, std::nullopt, 100)->messages), expected);
}

TEST_F(MessageHistory, AGroupsHistoryIsForItsMembersOnly) {
    auto owner = newUser(), outsider = newUser();
    auto group = CommunityRepository(db()).create(owner, "g", "", "").community.id;
    auto positions = store({message(owner, ConversationKind::Group, group, "hi")});
    EXPECT_FALSE(repo().history(outsider, {ConversationKind::Group, group}, std::nullopt, 10).has_value());
    auto page = repo().history(owner, {ConversationKind::Group, group}, std::nullopt, 10);
    ASSERT_TRUE(page.has_value());
    EXPECT_EQ(positionsOf(page->messages), positions);
    EXPECT_FALSE(page->more);
}

TEST_F(MessageHistory, ConversationsAreMostRecentFirstWithUnreadCountsThatFollowReadMarks) {
    auto me = newUser(), ann = newUser(), bob = newUser();
    auto group = CommunityRepository(db()).create(bob, "g", "", "").community.id;
    join(me, group);
    auto p =
        store({message(ann, ConversationKind::Single, me, "1"), message(ann, ConversationKind::Single, me, "2"),
               message(me, ConversationKind::Single, ann, "mine"), message(bob, ConversationKind::Group, group, "3"),
               message(bob, ConversationKind::Single, me, "4")});
    auto list = repo().conversations(me, 10);
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list[0].conversation.peer, bob);
    EXPECT_EQ(list[0].last.pos, p[4]);
    EXPECT_EQ(list[1].conversation.kind, ConversationKind::Group);
    EXPECT_EQ(list[1].unread, 1u);
    EXPECT_EQ(list[2].conversation.peer, ann);
    EXPECT_EQ(list[2].last.pos, p[2]);
    EXPECT_EQ(list[2].unread, 2u);  // my own message is not unread

    repo().markRead(me, {ConversationKind::Single, ann}, p[0]);
    repo().markRead(me, {ConversationKind::Single, ann}, 1);  // a mark never moves back
    EXPECT_EQ(repo().conversations(me, 10)[2].unread, 1u);
}

TEST_F(MessageHistory, RetentionByCountKeepsTheNewest) {
    auto a = newUser(), b = newUser();
    auto positions =
        store({message(a, ConversationKind::Single, b, "old"), message(a, ConversationKind::Single, b, "new")});
    while (repo().deleteBeyondNewest(1, 1000) > 0) {
    }
    EXPECT_TRUE(repo().range(positions[0], positions[0]).empty());
    EXPECT_EQ(repo().range(positions[1], positions[1]).size(), 1u);
}

TEST_F(MessageHistory, TheWriterGivesConcurrentSendersDistinctConsecutivePositionsInAppendOrder) {
    auto a = newUser(), b = newUser();
    metrics::Metrics metrics;
    MessageWriter writer({.batchMax = 16}, *url_, 5s, metrics);
    writer.start();
    std::mutex mutex;
    std::vector<std::pair<int, std::uint64_t>> committed;  // (sender thread * 1000 + index, position)
    auto send = [&](int thread) {
        for (int i = 0; i < 100; ++i)
            ASSERT_TRUE(
                writer.append(message(a, ConversationKind::Single, b, "x"), [&, tag = thread * 1000 + i](auto pos) {
                    std::lock_guard lock(mutex);
                    committed.push_back({tag, pos.value_or(0)});
                }));
    };
    std::thread t1(send, 1), t2(send, 2);
    t1.join();
    t2.join();
    writer.stop();
    ASSERT_EQ(committed.size(), 200u);
    std::set<std::uint64_t> positions;
    std::map<int, std::uint64_t> lastOfThread;
    for (auto [tag, pos] : committed) {
        ASSERT_GT(pos, 0u);
        positions.insert(pos);
        EXPECT_GT(pos, lastOfThread[tag / 1000]) << "a sender's messages keep their order";
        lastOfThread[tag / 1000] = pos;
    }
    EXPECT_EQ(positions.size(), 200u);
    EXPECT_EQ(metrics.historyStored.load(), 200u);
    // Each commit is counted, and none holds more than the writer's batch bound of 16.
    EXPECT_GE(metrics.historyBatches.load(), 13u);
    EXPECT_LE(metrics.historyBatches.load(), 200u);
}

TEST_F(MessageHistory, TheWritersBatchHookRunsOnceAfterEachBatchsCallbacks) {
    auto a = newUser(), b = newUser();
    metrics::Metrics metrics;
    MessageWriter writer({.batchMax = 16}, *url_, 5s, metrics);
    std::mutex mutex;
    std::vector<int> events;  // 1: a message's callback, 0: the batch hook
    writer.onBatchAnswered([&] {
        std::lock_guard lock(mutex);
        events.push_back(0);
    });
    writer.start();
    for (int i = 0; i < 40; ++i)
        ASSERT_TRUE(writer.append(message(a, ConversationKind::Single, b, "x"), [&](auto) {
            std::lock_guard lock(mutex);
            events.push_back(1);
        }));
    writer.stop();
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back(), 0) << "the last batch's callbacks are followed by the hook";
    int callbacks = 0, inBatch = 0;
    for (int e : events) {
        if (e == 1) {
            ++callbacks;
            ++inBatch;
            continue;
        }
        EXPECT_GE(inBatch, 1) << "a hook without a batch before it";
        EXPECT_LE(inBatch, 16) << "more callbacks than one batch holds before a hook";
        inBatch = 0;
    }
    EXPECT_EQ(callbacks, 40);
}

TEST_F(MessageHistory, AJoinTakesAPositionOfItsOwnBetweenTheGroupsMessages) {
    auto owner = newUser(), me = newUser();
    auto created = CommunityRepository(db()).create(owner, "g", "", "");
    auto group = created.community.id;
    auto before = store({message(owner, ConversationKind::Group, group, "before")});
    EXPECT_GT(before[0], created.ownerJoinedAt);
    auto joined = join(me, group);
    ASSERT_TRUE(joined.has_value());
    EXPECT_EQ(*joined, before[0] + 1);
    EXPECT_EQ(repo().committedPosition(), *joined);
    auto after = store({message(owner, ConversationKind::Group, group, "after")});
    EXPECT_EQ(after[0], *joined + 1);
    // The member sees exactly the messages after the join; the history says where it joined.
    EXPECT_EQ(positionsOf(repo().streamAfter(me, 0, 100)), after);
    EXPECT_EQ(repo().joinedAt(me, group), joined);
    auto joins = repo().joinsIn(before[0], after[0]);
    ASSERT_EQ(joins.size(), 1u);
    EXPECT_EQ(joins[0].pos, *joined);
    EXPECT_EQ(joins[0].user, me);
    EXPECT_EQ(joins[0].group, group);
}

TEST_F(MessageHistory, JoiningAgainTakesNoPosition) {
    auto owner = newUser();
    auto group = CommunityRepository(db()).create(owner, "g", "", "").community.id;
    auto committed = repo().committedPosition();
    EXPECT_FALSE(join(owner, group).has_value());
    EXPECT_EQ(repo().committedPosition(), committed);
}

TEST_F(MessageHistory, AJoinOutsideATransactionIsRefused) {
    auto owner = newUser(), me = newUser();
    auto group = CommunityRepository(db()).create(owner, "g", "", "").community.id;
    EXPECT_THROW(ContactRepository(db()).join(me, group), DbError);
}

}  // namespace
}  // namespace chat::store
