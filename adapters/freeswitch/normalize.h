// FreeSWITCH inputs -> canonical CdrRecord. Pure functions: bytes in,
// record or error out. No I/O, no globals, safe on any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/numbers/phone_numbers.h"
#include "daemon/core/cdr_record.h"
#include "daemon/ingest/ingest_guard.h"

namespace cdrd {

// How the account of a CDR is found (cdr-fields.md, account_id).
struct AccountRules {
  // Channel variables tried in order; the first non-empty one wins.
  std::vector<std::string> variables = {"account_id", "ecallmgr_Account-ID"};
  // Channel variables that hold the SIP domain, tried in order when no
  // account variable is set. cdr-fields.md names `domain_name` only; add
  // e.g. "sip_to_host", "sip_req_host" to also file calls by their SIP hosts.
  std::vector<std::string> domain_variables = {"domain_name"};
  // SIP domain -> account id. A domain not in the map is itself the account id.
  std::map<std::string, std::string> domains;
  // Used when neither a variable nor a domain gives an account.
  std::string default_account = "default";
};

// How `trunk` is found; the first rule that gives a name wins.
struct TrunkRules {
  // Channel variables holding the trunk's name, tried in order: the
  // FreeSWITCH gateway, Kazoo's resource (CCV Resource-ID).
  std::vector<std::string> variables = {"sip_gateway_name", "ecallmgr_Resource-ID"};
  // The far end's SIP address (sip_network_ip, else sip_received_ip) in a
  // network: the first network of the list that holds it.
  struct Network {
    CidrBlock network;
    std::string trunk;
  };
  std::vector<Network> by_network;
  // sofia_profile_name -> trunk.
  std::map<std::string, std::string> by_profile;
};

// How `recording_url` is found: the first of `variables` that is set, else
// `url_template` with each {variable} replaced by its value ("" = no
// template; a template naming a variable the leg lacks gives no URL).
struct RecordingRules {
  std::vector<std::string> variables = {"recording_url", "ecallmgr_Recording-Url"};
  std::string url_template;
};

struct NormalizeOptions {
  std::string node;  // this cdrd's node name, stored in `node`
  AccountRules accounts;
  std::string app_version;  // cdrd version for app_version when the platform gives none
  NumberRules numbers;      // caller_e164, callee_e164, destination
  TrunkRules trunks;
  RecordingRules recording;
};

// "" when `url_template` is a usable recording.url_template (every '{'
// closed by a '}' around a non-empty variable name), else why not.
std::string check_url_template(std::string_view url_template);

struct NormalizeError {
  std::string code;  // machine-readable: "invalid_json", "missing_field", "invalid_value", "bad_encoding", "empty_body"
  std::string message;  // names the field or the position, e.g. "variables.uuid is missing"
};

// Result of a normalization: either `error.code` is empty and `record` is set,
// or the input was refused.
struct NormalizeResult {
  CdrRecord record;
  NormalizeError error;
  bool ok() const { return error.code.empty(); }
};

// mod_json_cdr transport decoding: the POST body is raw JSON, or a form
// `cdr=<url-encoded JSON>`, or `cdr=<base64 JSON>` (possibly with other form
// fields around it, and base64 possibly url-encoded itself). Detects the form
// from the bytes, not from Content-Type. On success returns true with the
// JSON text in *json.
bool decode_json_cdr_body(std::string_view body, std::string* json, NormalizeError* error);

// A mod_json_cdr document (old pre-1.6 and 1.6+ layouts, duplicate
// `callflow` keys, url-encoded variable values) -> canonical record.
// `uuid_param` is the optional ?uuid= of the request ("a_" prefix = A-leg).
NormalizeResult normalize_json_cdr(std::string_view json, const NormalizeOptions& options,
                                   std::string_view uuid_param = {});

// mod_xml_cdr transport decoding: the POST body is raw XML or a form
// `cdr=<url-encoded XML>` (mod_xml_cdr's default), detected from the bytes.
// On success returns true with the XML text in *xml.
bool decode_xml_cdr_body(std::string_view body, std::string* xml, NormalizeError* error);

// A mod_xml_cdr document (<cdr> with <variables>, <callflow>, <app_log>;
// values possibly url-encoded) -> canonical record with source "xml_cdr",
// raw = the XML text, raw_format "xml". Parsed with pugixml.
NormalizeResult normalize_xml_cdr(std::string_view xml, const NormalizeOptions& options,
                                  std::string_view uuid_param = {});

struct EslEvent;  // adapters/freeswitch/esl_event.h

// One ESL CHANNEL_HANGUP_COMPLETE event (plain or json format) -> canonical
// record with source "esl", raw = the event as received, raw_format "esl".
// Events of any other name are refused with code "not_a_hangup".
NormalizeResult normalize_esl_event(const EslEvent& event, const NormalizeOptions& options);

}  // namespace cdrd
