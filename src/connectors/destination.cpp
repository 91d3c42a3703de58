#include "connectors/destination.h"

#include "core/error.h"

namespace ferry {

void Destination::apply_changes(const ChangeBatch&) {
  throw Error(ErrorKind::Permanent, "this destination cannot apply changes yet");
}

void Destination::add_missing_columns(const TableSchema&, const DestinationTable&) {
  throw Error(ErrorKind::Permanent, "this destination cannot add columns yet");
}

}  // namespace ferry
