// normalize_json_cdr: refusals, account resolution, legs and the derivation
// rules that the samples alone do not reach.
#include <gtest/gtest.h>

#include "tests/adapters/sample_record.h"

namespace cdrd::test {
namespace {

const char kSample2017[] = "json_cdr_cgrates_2017.json";

void expect_error(const NormalizeResult& result, const std::string& code, const std::string& message) {
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error.code, code);
  EXPECT_EQ(result.error.message, message);
  EXPECT_TRUE(result.record.json.empty());
}

TEST(JsonCdrErrors, MissingUuidNamesTheField) {
  const std::string doc = replace_all(read_sample(kSample2017), "\"uuid\":", "\"uuid_gone\":");
  expect_error(normalize_json_cdr(doc, default_options()), "missing_field", "variables.uuid is missing");
}

TEST(JsonCdrErrors, MissingEndUepochNamesTheField) {
  const std::string doc = replace_all(read_sample(kSample2017), "\"end_uepoch\"", "\"end_uepoch_gone\"");
  expect_error(normalize_json_cdr(doc, default_options()), "missing_field", "variables.end_uepoch is missing");
}

TEST(JsonCdrErrors, MissingStartUepochNamesTheField) {
  const std::string doc = replace_all(read_sample(kSample2017), "\"start_uepoch\"", "\"start_uepoch_gone\"");
  expect_error(normalize_json_cdr(doc, default_options()), "missing_field", "variables.start_uepoch is missing");
}

TEST(JsonCdrErrors, ZeroOrTextEndUepochIsInvalid) {
  const std::string base = read_sample(kSample2017);
  const std::string zero = replace_all(base, "\"end_uepoch\": \"1515666415494269\"", "\"end_uepoch\": \"0\"");
  expect_error(normalize_json_cdr(zero, default_options()), "invalid_value",
               "variables.end_uepoch is not a time in microseconds since the Unix epoch: '0'");
  const std::string text = replace_all(base, "\"end_uepoch\": \"1515666415494269\"", "\"end_uepoch\": \"soon\"");
  expect_error(normalize_json_cdr(text, default_options()), "invalid_value",
               "variables.end_uepoch is not a time in microseconds since the Unix epoch: 'soon'");
}

TEST(JsonCdrErrors, EndBeforeStartIsInvalid) {
  const std::string doc = replace_all(read_sample(kSample2017), "\"end_uepoch\": \"1515666415494269\"",
                                      "\"end_uepoch\": \"1515666344534354\"");
  expect_error(normalize_json_cdr(doc, default_options()), "invalid_value",
               "variables.end_uepoch is before variables.start_uepoch");
}

// Found by fuzz/json_cdr_fuzzer: a \u0000 in a value reached the record,
// which jsonb refuses, so the whole CDR would have been quarantined.
TEST(JsonCdrRules, NulInAValueBecomesAReplacementCharacter) {
  const std::string doc = replace_all(read_sample(kSample2017), "\"sip_user_agent\": \"Jitsi2.10.5550Linux\"",
                                      "\"sip_user_agent\": \"Jitsi\\u0000Linux\"");
  const Record r = normalize_text(doc);
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("user_agent"), "Jitsi\xEF\xBF\xBDLinux");
  EXPECT_EQ(r.result().record.json.find("\\u0000"), std::string::npos);
}

TEST(JsonCdrErrors, NotAnObject) {
  expect_error(normalize_json_cdr("[1, 2, 3]", default_options()), "invalid_json", "the JSON CDR is not a JSON object");
  expect_error(normalize_json_cdr("\"text\"", default_options()), "invalid_json", "the JSON CDR is not a JSON object");
}

TEST(JsonCdrErrors, NoVariablesObject) {
  expect_error(normalize_json_cdr("{\"callflow\": []}", default_options()), "missing_field", "variables is missing");
  expect_error(normalize_json_cdr("{\"variables\": \"x\"}", default_options()), "invalid_json",
               "variables is not a JSON object");
}

TEST(JsonCdrErrors, TruncatedJsonGivesTheOffsetAndRapidjsonText) {
  // The 2018b sample cut after its first 25 bytes: "\n{\"core-uuid\":\"63e2315b-d5",
  // a string that never closes; the parser gives up at the end, offset 25.
  const std::string cut = read_sample("json_cdr_cgrates_2018b.json").substr(0, 25);
  expect_error(normalize_json_cdr(cut, default_options()), "invalid_json",
               "JSON parse error at offset 25: Missing a closing quotation mark in string.");
  // A complete value followed by garbage.
  expect_error(normalize_json_cdr("{} x", default_options()), "invalid_json",
               "JSON parse error at offset 3: The document root must not be followed by other values.");
}

TEST(JsonCdrErrors, NulByteIsRefused) {
  const std::string doc = std::string("{}") + '\0' + "{}";
  expect_error(normalize_json_cdr(doc, default_options()), "invalid_json",
               "JSON parse error at offset 2: NUL byte in the document");
}

TEST(JsonCdrErrors, EmptyDocument) {
  expect_error(normalize_json_cdr("", default_options()), "empty_body", "the JSON CDR is empty");
  expect_error(normalize_json_cdr(" \n\t", default_options()), "empty_body", "the JSON CDR is empty");
}

TEST(JsonCdrAccount, AccountVariableWins) {
  // 2018a has domain_name 192.168.56.202; the variable comes first.
  const std::string doc = with_variables(read_sample("json_cdr_cgrates_2018a.json"), "\"account_id\":\"acct-a\"");
  const Record r = normalize_text(doc);
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("account_id"), "acct-a");
  EXPECT_EQ(r.sub("custom_channel_vars", "account_id"), "acct-a");
}

TEST(JsonCdrAccount, KazooAccountVariableIsTheSecondChoiceAndACustomChannelVar) {
  const std::string doc = with_variables(read_sample(kSample2017),
                                         "\"ecallmgr_Account-ID\":\"kazoo-acct\",\"ecallmgr_Realm\":\"r.example\"");
  const Record r = normalize_text(doc);
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("account_id"), "kazoo-acct");
  // Kazoo's key spelling: ecallmgr_Account-ID is the CCV account_id, the resolved account (written once).
  EXPECT_EQ(r.sub("custom_channel_vars", "account_id"), "kazoo-acct");
  EXPECT_EQ(r.sub("custom_channel_vars", "realm"), "r.example");
  EXPECT_EQ(r.doc()["custom_channel_vars"].MemberCount(), 2u);
}

TEST(JsonCdrAccount, ConfiguredVariableList) {
  NormalizeOptions options = default_options();
  options.accounts.variables = {"accountcode"};
  // 2018a: accountcode "1001"
  EXPECT_EQ(normalize_sample("json_cdr_cgrates_2018a.json", options).str("account_id"), "1001");
}

TEST(JsonCdrAccount, DomainMappedThroughTheConfiguration) {
  NormalizeOptions options = default_options();
  options.accounts.domains = {{"192.168.56.202", "acct-lab"}, {"other.example", "acct-other"}};
  EXPECT_EQ(normalize_sample("json_cdr_cgrates_2018a.json", options).str("account_id"), "acct-lab");
  // An unmapped domain is itself the account.
  EXPECT_EQ(normalize_sample("json_cdr_cgrates_2015.json", options).str("account_id"), "cgrates.org");
}

TEST(JsonCdrAccount, DefaultAccountWhenNoVariableAndNoDomain) {
  NormalizeOptions options = default_options();
  options.accounts.default_account = "fallback";
  EXPECT_EQ(normalize_sample(kSample2017, options).str("account_id"), "fallback");
}

TEST(JsonCdrAccount, MoreDomainVariablesCanBeConfigured) {
  NormalizeOptions options = default_options();
  options.accounts.domain_variables = {"domain_name", "sip_to_host", "sip_req_host"};
  // 2017 has no domain_name; sip_to_host "10.10.10.204"
  EXPECT_EQ(normalize_sample(kSample2017, options).str("account_id"), "10.10.10.204");
}

TEST(JsonCdrAccount, NoAccountAtAllIsRefused) {
  NormalizeOptions options = default_options();
  options.accounts.default_account.clear();
  expect_error(normalize_json_cdr(read_sample(kSample2017), options), "missing_field",
               "account_id: no account variable, no SIP domain and no default account is configured");
}

// The 2017 A-leg turned into the B-leg's view: its originatee profile becomes an originator.
std::string b_leg_of_2017() {
  std::string doc = read_sample(kSample2017);
  doc = replace_all(doc, "\"originatee\"", "\"originator\"");
  return replace_all(doc, "\"originatee_caller_profiles\"", "\"originator_caller_profiles\"");
}

TEST(JsonCdrLeg, OriginatorProfileMakesABLeg) {
  const Record r = normalize_text(b_leg_of_2017());
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("leg"), "B");
  // call_uuid is the leg's own uuid here, so the originator profile's uuid is the A-leg.
  EXPECT_EQ(r.str("interaction_id"), "f52c26f1-b018-4963-bf6d-a3111d1a0320");
  EXPECT_EQ(r.str("other_leg_call_id"), "f52c26f1-b018-4963-bf6d-a3111d1a0320");
  EXPECT_FALSE(r.has("other_leg_direction"));
}

TEST(JsonCdrLeg, UuidParamWithAPrefixForcesTheALeg) {
  const Record r = normalize_text(b_leg_of_2017(), default_options(), "a_3da8bf84-c133-4959-9e24-e72875cb33a1");
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("leg"), "A");
  EXPECT_EQ(r.str("interaction_id"), "3da8bf84-c133-4959-9e24-e72875cb33a1");
  // A plain uuid parameter changes nothing.
  EXPECT_EQ(normalize_text(b_leg_of_2017(), default_options(), "3da8bf84-c133-4959-9e24-e72875cb33a1").str("leg"), "B");
}

TEST(JsonCdrLeg, OriginatingLegVariablesMakeABLeg) {
  const std::string base = read_sample(kSample2017);
  const Record by_originating = normalize_text(with_variables(base, "\"originating_leg_uuid\":\"a-leg-1\""));
  EXPECT_EQ(by_originating.str("leg"), "B");
  EXPECT_EQ(by_originating.str("interaction_id"), "a-leg-1");
  const Record by_originator = normalize_text(with_variables(base, "\"originator\":\"a-leg-2\""));
  EXPECT_EQ(by_originator.str("leg"), "B");
  EXPECT_EQ(by_originator.str("interaction_id"), "a-leg-2");
  // call_uuid naming another leg points at the A-leg first.
  const std::string b =
      replace_all(base, "\"call_uuid\": \"3da8bf84-c133-4959-9e24-e72875cb33a1\"", "\"call_uuid\": \"a-leg-3\"");
  EXPECT_EQ(normalize_text(with_variables(b, "\"originator\":\"a-leg-2\"")).str("interaction_id"), "a-leg-3");
}

TEST(JsonCdrLeg, PlatformInteractionIdWins) {
  const Record r = normalize_text(with_variables(b_leg_of_2017(), "\"interaction_id\":\"63682885544-1a2b3c4d\""));
  EXPECT_EQ(r.str("interaction_id"), "63682885544-1a2b3c4d");
}

TEST(JsonCdrValues, UrlEncodedValuesAreDecodedAndPlusIsKept) {
  // 2013a sends values encoded: sip_full_to "%3Csip%3A1002%40192.168.56.10%3E%3Btag%3D4yBBm5aFZ22vN"
  const Record a = normalize_sample("json_cdr_cgrates_2013a.json");
  EXPECT_EQ(a.str("hangup_code"), "sip:200");
  EXPECT_EQ(a.str("to_uri"), "1002@192.168.56.10");
  // A literal '+' is a plus in values (FreeSWITCH encodes a space as %20); bad sequences stay.
  const std::string doc =
      with_variables(read_sample(kSample2017), "\"sip_h_X-Num\":\"+4420%2B1\",\"sip_h_X-Odd\":\"100%25 %zz %4\"");
  const Record r = normalize_text(doc);
  EXPECT_EQ(r.sub("custom_sip_headers", "x_num"), "+4420+1");
  EXPECT_EQ(r.sub("custom_sip_headers", "x_odd"), "100% %zz %4");
}

TEST(JsonCdrValues, InvalidUtf8BecomesReplacementCharacter) {
  // %E9 is a Latin-1 e-acute: not UTF-8. %C3%A9 is the UTF-8 one.
  const std::string doc = with_variables(read_sample(kSample2017), "\"sip_from_uri\":\"%E9t%C3%A9@x\"");
  const Record r = normalize_text(doc);
  ASSERT_TRUE(r.ok()) << r.result().record.json;
  EXPECT_EQ(r.str("from_uri"), "\xEF\xBF\xBDt\xC3\xA9@x");
}

TEST(JsonCdrValues, CustomVariableGroups) {
  const std::string doc = with_variables(read_sample(kSample2017),
                                         "\"cav_campaign\":\"spring\",\"sip_rh_X-Route\":\"r1\",\"sip_i_X-Id\":\"i1\","
                                         "\"sip_h_X-Route\":\"h1\",\"cav_\":\"nameless\",\"cav_empty\":\"\"");
  const Record r = normalize_text(doc);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.sub("custom_application_vars", "campaign"), "spring");
  EXPECT_EQ(r.doc()["custom_application_vars"].MemberCount(), 1u);
  // sip_h_ comes before sip_rh_ for the same header name.
  EXPECT_EQ(r.sub("custom_sip_headers", "x_route"), "h1");
  EXPECT_EQ(r.sub("custom_sip_headers", "x_id"), "i1");
  EXPECT_EQ(r.doc()["custom_sip_headers"].MemberCount(), 2u);
}

TEST(JsonCdrValues, LoopbackFaxAndPlatformApp) {
  const std::string doc = with_variables(read_sample(kSample2017),
                                         "\"is_loopback\":\"true\",\"fax_success\":\"1\",\"fax_total_pages\":\"3\","
                                         "\"ecallmgr_App-Name\":\"callflow\",\"ecallmgr_App-Version\":\"4.3.0\"");
  const Record r = normalize_text(doc);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r.has("is_loopback"));
  EXPECT_TRUE(r.doc()["is_loopback"].GetBool());
  EXPECT_EQ(r.str("fax_success"), "1");
  EXPECT_EQ(r.str("fax_total_pages"), "3");
  EXPECT_FALSE(r.has("fax_bad_rows"));
  EXPECT_EQ(r.str("app_name"), "callflow");
  EXPECT_EQ(r.str("app_version"), "4.3.0");
  // A loopback channel name says the same.
  const std::string by_name =
      replace_all(read_sample(kSample2017), "\"channel_name\": \"sofia/internal/1001@10.10.10.204\"",
                  "\"channel_name\": \"loopback/1002-a\"");
  EXPECT_TRUE(normalize_text(by_name).doc()["is_loopback"].GetBool());
}

TEST(JsonCdrValues, NoNodeNoAppVersionNoEmptyStrings) {
  NormalizeOptions options;
  const Record r = normalize_sample(kSample2017, options);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.has("node"));
  EXPECT_FALSE(r.has("app_version"));
  for (const auto& m : r.doc().GetObject()) {
    EXPECT_FALSE(m.value.IsNull()) << m.name.GetString();
    if (m.value.IsString()) {
      EXPECT_NE(m.value.GetStringLength(), 0u) << m.name.GetString();
    }
  }
}

TEST(JsonCdrBilling, UnansweredCallsByCause) {
  // 2017 without an answer: answer_uepoch "0" and no answered_time in the current profile.
  std::string base =
      replace_all(read_sample(kSample2017), "\"answer_uepoch\": \"1515666347954373\"", "\"answer_uepoch\": \"0\"");
  auto with_cause = [&](const std::string& cause) {
    return normalize_text(replace_all(
        replace_all(base, "\"bridge_hangup_cause\": \"NORMAL_CLEARING\"", "\"bridge_hangup_cause\": \"" + cause + "\""),
        "\"hangup_cause\": \"NORMAL_CLEARING\"", "\"hangup_cause\": \"" + cause + "\""));
  };
  const Record busy = with_cause("USER_BUSY");
  EXPECT_EQ(busy.str("billing_status"), "busy");
  EXPECT_EQ(busy.num("billing_seconds"), 0);
  EXPECT_FALSE(busy.has("answered_at"));
  EXPECT_EQ(busy.str("hangup_cause"), "USER_BUSY");
  EXPECT_EQ(with_cause("NO_ANSWER").str("billing_status"), "noanswer");
  EXPECT_EQ(with_cause("NO_USER_RESPONSE").str("billing_status"), "noanswer");
  EXPECT_EQ(with_cause("ORIGINATOR_CANCEL").str("billing_status"), "noanswer");
  EXPECT_EQ(with_cause("CALL_REJECTED").str("billing_status"), "failed");
  // originate_failed_cause comes first.
  const Record failed = normalize_text(with_variables(base, "\"originate_failed_cause\":\"NO_ROUTE_DESTINATION\""));
  EXPECT_EQ(failed.str("hangup_cause"), "NO_ROUTE_DESTINATION");
  EXPECT_EQ(failed.str("billing_status"), "failed");
}

TEST(JsonCdrTiming, CurrentProfileTimesBackUpMissingVariables) {
  // 2015 repeats `callflow`: profile_index 2 (first) has answered_time
  // 1436280728971147, profile_index 1 has 0. Without answer_uepoch the current
  // profile's time is used: 1436280794010 - 1436280728971 = 65039 ms -> 66.
  const std::string doc = replace_all(read_sample("json_cdr_cgrates_2015.json"), "\"answer_uepoch\"", "\"gone\"");
  const Record r = normalize_text(doc);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.str("answered_at"), "2015-07-07T14:52:08.971147Z");
  EXPECT_EQ(r.num("billing_seconds"), 66);
}

TEST(JsonCdrTiming, HighestProfileIndexWinsWhateverTheOrder) {
  // 2013b lists profile_index 2 (destination "dan") before 1 ("+4986517174963").
  // Swap the two indexes: the second `callflow` becomes the current profile.
  std::string doc = read_sample("json_cdr_cgrates_2013b.json");
  doc = replace_all(doc, "\"profile_index\":\"2\"", "\"profile_index\":\"x\"");
  doc = replace_all(doc, "\"profile_index\":\"1\"", "\"profile_index\":\"2\"");
  doc = replace_all(doc, "\"profile_index\":\"x\"", "\"profile_index\":\"1\"");
  const Record r = normalize_text(doc);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.str("callee_id_number"), "+4986517174963");
  // The originatee is still found in the other profile.
  EXPECT_EQ(r.str("other_leg_call_id"), "8f7c860f-0619-4d3c-9515-cc23b0fa3997");
}

TEST(JsonCdrTiming, RingingFromProgress) {
  // progress 3 s after the start second: 1515666347 - 1515666344 = 3
  const std::string doc = replace_all(read_sample(kSample2017), "\"progress_uepoch\": \"1515666344594267\"",
                                      "\"progress_uepoch\": \"1515666347000001\"");
  EXPECT_EQ(normalize_text(doc).num("ringing_seconds"), 3);
}

}  // namespace
}  // namespace cdrd::test
