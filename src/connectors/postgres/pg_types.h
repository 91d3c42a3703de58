// PostgreSQL type -> ferry logical type. Pure: input is what the catalog
// query returns (format_type text and pg_type.typtype), so it is unit-tested
// without a server.
#pragma once
#include <string>

#include "core/schema.h"

namespace ferry {

struct PgTypeInfo {
  std::string type_text;     // format_type(base type, typmod), e.g. "numeric(10,2)", "integer[]"
  char typtype = 'b';        // of the (domain-resolved) type: b base, e enum, c composite, d domain, p pseudo, r range
  std::string element_text;  // for arrays: format_type of the element, else empty
  char element_typtype = 'b';
};

// Fills type/element/precision/scale of a column from PostgreSQL type info.
// Types without an exact destination type map to text-carrying logical types;
// only types with no stable text form for ferry (composite, pseudo) are
// LogicalType::Unsupported.
void map_pg_type(const PgTypeInfo& info, Column& column);

}  // namespace ferry
