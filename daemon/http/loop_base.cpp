#include "daemon/http/loop_base.h"

#include <event2/event.h>

namespace cdrd {

event_base* new_loop_base() {
  event_config* config = event_config_new();
  if (config == nullptr) return event_base_new();
  event_config_set_flag(config, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  event_base* base = event_base_new_with_config(config);
  event_config_free(config);
  return base != nullptr ? base : event_base_new();
}

}  // namespace cdrd
