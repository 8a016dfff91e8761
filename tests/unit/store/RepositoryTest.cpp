// The repositories against a real MariaDB (CHAT_TEST_MYSQL) with src/store/schema.sql applied.
// Every test makes its own users with random mobiles, so reruns on one database do not collide.
#include <gtest/gtest.h>

#include <chrono>

#include "StoreTestSupport.hpp"
#include "store/CommunityRepository.hpp"
#include "store/ContactRepository.hpp"
#include "store/TokenRepository.hpp"
#include "store/UserRepository.hpp"

namespace chat::store {
namespace {

class Repositories : public test::ConnectedTest {
protected:
    UserRepository users() { return UserRepository(db()); }
};

TEST_F(Repositories, UserInsertReturnsNewIdsAndRefusesATakenMobile) {
    const std::string mobile = test::uniqueMobile();
    auto first = users().insert(mobile, "hash", std::string(32, 'b'), "ann", "a.png");
    ASSERT_TRUE(first.has_value());
    EXPECT_GT(*first, 0);
    EXPECT_FALSE(users().insert(mobile, "other", std::string(32, 'c'), "bob", "").has_value());
    auto second = users().insert(test::uniqueMobile(), "hash", std::string(32, 'b'), "cat", "");
    ASSERT_TRUE(second.has_value());
    EXPECT_NE(*first, *second);
}

TEST_F(Repositories, UserFoundByMobileCarriesCredentialsAndProfile) {
    const std::string mobile = test::uniqueMobile();
    const std::string avatar(400, 'x');  // longer than the first fetch buffer
    const auto before =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    auto id = users().insert(mobile, "pbkdf2-sha256$100000$abcd", std::string(32, 'f'), "D\xC3\xA9nis", avatar);
    ASSERT_TRUE(id.has_value());

    auto found = users().findByMobile(mobile);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->user.id, *id);
    EXPECT_EQ(found->user.mobile, mobile);
    EXPECT_EQ(found->user.nickname, "D\xC3\xA9nis");
    EXPECT_EQ(found->user.avatar, avatar);
    EXPECT_EQ(found->user.memo, "");
    EXPECT_EQ(found->user.sex, 0);
    EXPECT_NEAR(static_cast<double>(found->user.createdMs), static_cast<double>(before), 60'000.0);
    EXPECT_EQ(found->passwordHash, "pbkdf2-sha256$100000$abcd");
    EXPECT_EQ(found->salt, std::string(32, 'f'));

    auto byId = users().findById(*id);
    ASSERT_TRUE(byId.has_value());
    EXPECT_EQ(byId->mobile, mobile);
    EXPECT_EQ(byId->createdMs, found->user.createdMs);
}

TEST_F(Repositories, UserLookupsAnswerNothingForStrangers) {
    EXPECT_FALSE(users().findByMobile(test::uniqueMobile()).has_value());
    EXPECT_FALSE(users().idByMobile(test::uniqueMobile()).has_value());
    EXPECT_FALSE(users().findById(-1).has_value());
    EXPECT_FALSE(users().exists(-1));
}

TEST_F(Repositories, UserIdByMobileExistsAndNicknameChange) {
    const std::string mobile = test::uniqueMobile();
    auto id = users().insert(mobile, "hash", std::string(32, 'a'), "old", "");
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(users().idByMobile(mobile), id);
    EXPECT_TRUE(users().exists(*id));
    users().setNickname(*id, "new");
    EXPECT_EQ(users().findById(*id)->nickname, "new");
}

TEST_F(Repositories, TokenIsFoundByDigestUntilRemoved) {
    TokenRepository tokens(db());
    const std::int64_t user = newUser();
    const std::string digest = test::uniqueText("", 64);
    const std::int64_t tokenId = tokens.insert(user, digest);
    EXPECT_GT(tokenId, 0);

    auto found = tokens.find(digest);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->tokenId, tokenId);
    EXPECT_EQ(found->userId, user);
    EXPECT_FALSE(tokens.find(test::uniqueText("", 64)).has_value());

    EXPECT_TRUE(tokens.remove(tokenId));
    EXPECT_FALSE(tokens.find(digest).has_value());
    EXPECT_FALSE(tokens.remove(tokenId));
}

TEST_F(Repositories, AddFriendLinksBothWaysOnce) {
    ContactRepository contacts(db());
    const std::int64_t ann = newUser("ann");
    const std::int64_t bob = newUser("bob");
    EXPECT_EQ(contacts.addFriend(ann, bob), ContactRepository::AddFriend::Added);
    EXPECT_EQ(contacts.addFriend(ann, bob), ContactRepository::AddFriend::AlreadyFriends);
    EXPECT_EQ(contacts.addFriend(bob, ann), ContactRepository::AddFriend::AlreadyFriends);

    auto annFriends = contacts.friends(ann);
    ASSERT_EQ(annFriends.size(), 1u);
    EXPECT_EQ(annFriends[0].id, bob);
    EXPECT_EQ(annFriends[0].nickname, "bob");
    auto bobFriends = contacts.friends(bob);
    ASSERT_EQ(bobFriends.size(), 1u);
    EXPECT_EQ(bobFriends[0].id, ann);
}

TEST_F(Repositories, AddFriendRepairsAHalfMadeFriendship) {
    ContactRepository contacts(db());
    const std::int64_t ann = newUser();
    const std::int64_t bob = newUser();
    db().execute("INSERT INTO contacts (owner, target, category) VALUES (?, ?, 1)", {bob, ann});
    EXPECT_EQ(contacts.addFriend(ann, bob), ContactRepository::AddFriend::Added);
    EXPECT_EQ(contacts.friends(ann).size(), 1u);
    EXPECT_EQ(contacts.friends(bob).size(), 1u);
}

TEST_F(Repositories, FriendsAreOrderedByNicknameThenId) {
    ContactRepository contacts(db());
    const std::int64_t owner = newUser("owner");
    const std::int64_t zed = newUser("zed");
    const std::int64_t amy1 = newUser("amy");
    const std::int64_t amy2 = newUser("amy");
    const std::int64_t bea = newUser("bea");
    for (std::int64_t friendId : {zed, amy2, bea, amy1}) contacts.addFriend(owner, friendId);

    auto list = contacts.friends(owner);
    ASSERT_EQ(list.size(), 4u);
    EXPECT_EQ(list[0].id, amy1);
    EXPECT_EQ(list[1].id, amy2);
    EXPECT_EQ(list[2].id, bea);
    EXPECT_EQ(list[3].id, zed);
    EXPECT_TRUE(contacts.friends(zed).size() == 1 && contacts.friends(zed)[0].id == owner);
}

TEST_F(Repositories, JoinIsIdempotentAndShowsInMembership) {
    ContactRepository contacts(db());
    CommunityRepository communities(db());
    const std::int64_t owner = newUser();
    const std::int64_t user = newUser();
    const std::int64_t first = communities.create(owner, "first", "", "").community.id;
    const std::int64_t second = communities.create(owner, "second", "", "").community.id;
    auto join = [&](std::int64_t group) {
        Transaction t(db());
        auto pos = contacts.join(user, group);
        t.commit();
        return pos;
    };

    EXPECT_FALSE(contacts.isMember(user, first));
    EXPECT_TRUE(join(second).has_value());
    EXPECT_TRUE(join(first).has_value());
    EXPECT_FALSE(join(first).has_value());
    EXPECT_TRUE(contacts.isMember(user, first));
    EXPECT_EQ(contacts.memberships(user).groups, (std::vector<std::int64_t>{first, second}));
    EXPECT_TRUE(contacts.memberships(newUser()).groups.empty());
    EXPECT_TRUE(contacts.friends(user).empty());  // memberships are not friendships
}

TEST_F(Repositories, CreatedCommunityHasItsOwnerAsMember) {
    CommunityRepository communities(db());
    ContactRepository contacts(db());
    const std::int64_t owner = newUser();
    auto [created, joinedAt] = communities.create(owner, "Group \xE2\x9C\x93", "icon.png", "about");
    EXPECT_GT(created.id, 0);
    EXPECT_GT(joinedAt, 0u);
    EXPECT_EQ(created.name, "Group \xE2\x9C\x93");
    EXPECT_EQ(created.owner, owner);
    EXPECT_EQ(created.icon, "icon.png");
    EXPECT_EQ(created.memo, "about");
    EXPECT_EQ(created.category, 1);
    EXPECT_GT(created.createdMs, 1'600'000'000'000);
    EXPECT_FALSE(db().inTransaction());

    EXPECT_TRUE(contacts.isMember(owner, created.id));
    auto found = communities.find(created.id);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->name, created.name);
    EXPECT_EQ(found->createdMs, created.createdMs);
    auto mine = communities.forUser(owner);
    ASSERT_EQ(mine.size(), 1u);
    EXPECT_EQ(mine[0].id, created.id);
    EXPECT_FALSE(communities.find(-1).has_value());
}

TEST_F(Repositories, TooLongCommunityNameFailsAndLeavesNoRows) {
    CommunityRepository communities(db());
    const std::int64_t owner = newUser();
    // The name column holds 64 characters: the insert fails (strict mode) and nothing remains.
    EXPECT_THROW(communities.create(owner, std::string(65, 'n'), "", ""), DbError);
    EXPECT_FALSE(db().inTransaction());
    EXPECT_TRUE(communities.forUser(owner).empty());
    EXPECT_TRUE(db().query("SELECT id FROM communities WHERE owner = ?", {owner}).empty());
}

}  // namespace
}  // namespace chat::store
