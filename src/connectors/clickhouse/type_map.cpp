#include "connectors/clickhouse/type_map.h"

#include <algorithm>

#include "core/error.h"
#include "core/ident.h"

namespace ferry::clickhouse {

namespace {

struct Scalar {
  std::string type;
  Codec codec = Codec::Text;
  int32_t min_day = 0;
  int32_t max_day = 0;
};

bool mappable_decimal(const Column& c) {
  return c.precision >= 1 && c.precision <= 38 && c.scale >= 0 && c.scale <= c.precision;
}

// The ClickHouse type (without Nullable) for a scalar logical type; also used for array
// elements, whose precision/scale are the column's.
Scalar scalar_for(LogicalType t, const Column& c, const Capabilities& caps) {
  switch (t) {
    case LogicalType::Int8:
      return {"Int8", Codec::Verbatim};
    case LogicalType::Int16:
      return {"Int16", Codec::Verbatim};
    case LogicalType::UInt8:
      return {"UInt8", Codec::Verbatim};
    case LogicalType::UInt16:
      return {"UInt16", Codec::Verbatim};
    case LogicalType::UInt32:
      return {"UInt32", Codec::Verbatim};
    case LogicalType::UInt64:
      return {"UInt64", Codec::Verbatim};
    case LogicalType::Year:  // 1901..2155 and 0 (the zero year "0000")
      return {"UInt16", Codec::Verbatim};
    // Raw WKB bytes, like a blob (ClickHouse 18.16 has no geometry types).
    case LogicalType::Geometry:
      return {"String", Codec::Bytes};
    case LogicalType::Int32:
      return {"Int32", Codec::Verbatim};
    case LogicalType::Int64:
      return {"Int64", Codec::Verbatim};
    case LogicalType::Float32:
      return {"Float32", Codec::Float};
    case LogicalType::Float64:
      return {"Float64", Codec::Float};
    case LogicalType::Decimal:
      if (mappable_decimal(c))
        return {"Decimal(" + std::to_string(c.precision) + ", " + std::to_string(c.scale) + ")", Codec::Decimal};
      return {"String", Codec::Text};
    // UInt8 on every version (Bool is an alias of UInt8 from 22.3; keeping UInt8 keeps
    // tables identical across versions and arrays of it parse everywhere).
    case LogicalType::Bool:
      return {"UInt8", Codec::Bool};
    case LogicalType::Bytes:
      return {"String", Codec::Bytes};
    case LogicalType::Uuid:
      return {"UUID", Codec::Uuid};
    case LogicalType::Date:
      if (caps.has_date32) return {"Date32", Codec::Date, caps.ext_min_day, caps.ext_max_day};
      return {"Date", Codec::Date, kDateMinDay, kDateMaxDay};
    // DateTime cannot hold microseconds: without DateTime64 the canonical text is kept.
    // 'UTC' for timestamp too: with the server's zone, wall-clock times inside a DST gap
    // would be shifted by the server when parsed, and ranges would move by the offset.
    case LogicalType::Timestamp:
      if (caps.has_datetime64) return {"DateTime64(6, 'UTC')", Codec::DateTime64, caps.ext_min_day, caps.ext_max_day};
      return {"String", Codec::Text};
    case LogicalType::TimestampTz:
      if (caps.has_datetime64)
        return {"DateTime64(6, 'UTC')", Codec::DateTime64Utc, caps.ext_min_day, caps.ext_max_day};
      return {"String", Codec::Text};
    case LogicalType::NumericText:
    case LogicalType::String:
    case LogicalType::Time:
    case LogicalType::Interval:
    case LogicalType::Json:
    case LogicalType::Enum:
    case LogicalType::Inet:
    case LogicalType::Set:
    case LogicalType::Bit:
      return {"String", Codec::Text};
    case LogicalType::Array:
    case LogicalType::Unsupported:
      break;
  }
  return {"", Codec::Text};
}

// Element types that become Array(Nullable(T)); anything else keeps the PG array text.
bool array_element_supported(const Column& c) {
  switch (c.element) {
    case LogicalType::Int16:
    case LogicalType::Int32:
    case LogicalType::Int64:
    case LogicalType::Float32:
    case LogicalType::Float64:
    case LogicalType::Bool:
    case LogicalType::Uuid:
    case LogicalType::Date:
      return true;
    case LogicalType::Decimal:
      return mappable_decimal(c);
    case LogicalType::String:
      // box[] is the one text-rendered type whose array delimiter is ';', not ','.
      return c.source_type.rfind("box", 0) != 0;
    default:
      return false;
  }
}

// The column for a user's `column_types` entry: the codec follows the ClickHouse type
// (String keeps the source's text rendering exactly). Nullable is added for nullable
// source columns. Throws Config for types ferry does not write or the server lacks.
ClickHouseColumn overridden_column(const Column& c, const ClickHouseColumn& mapped, const std::string& type,
                                   const Capabilities& caps, std::string_view table) {
  std::string base(strip_nullable(type));
  auto refuse = [&](const std::string& why) -> ClickHouseColumn {
    throw config_error("table " + std::string(table) + ": column_types." + c.name + " = " + type + ": " + why);
  };
  if ((base == "Date32" && !caps.has_date32) || (base.rfind("DateTime64(", 0) == 0 && !caps.has_datetime64))
    refuse("ClickHouse " + caps.version + " has no such type (Date32: 21.9+, DateTime64: 20.1+); use String to keep "
           "the source text");
  ClickHouseColumn out;
  try {
    out = column_from_clickhouse_type(c.name, type, caps);
  } catch (const Error&) {
    refuse("ferry writes only Int*/UInt*, Float32/64, Decimal(P, S), String, UUID, Date, Date32, DateTime64(...), "
           "UInt8 and arrays of them");
  }
  if (out.codec == Codec::DateTime64Utc && c.type == LogicalType::Timestamp) out.codec = Codec::DateTime64;
  if (out.codec == Codec::Array && mapped.codec != Codec::Array) refuse("the source column is not an array ferry maps");
  bool may_be_null = mapped.nullable;  // key columns are never nullable
  if (may_be_null && !out.nullable && out.codec != Codec::Array) {
    out.type = "Nullable(" + out.type + ")";
    out.nullable = true;
  }
  if (out.nullable && !mapped.nullable) refuse("the column is part of the key and cannot be Nullable");
  out.source_type = mapped.source_type;
  return out;
}

[[noreturn]] void unmappable(const Column& c, std::string_view table) {
  std::string type = c.source_type.empty() ? to_string(c.type) : c.source_type;
  throw permanent_error("table " + std::string(table) + ": column " + c.name + " has type " + type +
                        " that ferry cannot map to ClickHouse");
}

}  // namespace

bool narrower_than_source(const ClickHouseColumn& c) {
  auto narrow = [](Codec k) {
    return k == Codec::Date || k == Codec::DateTime64 || k == Codec::DateTime64Utc || k == Codec::Decimal;
  };
  return narrow(c.codec) || (c.codec == Codec::Array && narrow(c.element));
}

ClickHouseColumn map_column(const Column& column, bool force_not_null, const Capabilities& caps,
                            std::string_view table_display) {
  ClickHouseColumn out;
  out.name = column.name;
  out.source_type = column.source_type.empty() ? to_string(column.type) : column.source_type;
  if (column.type == LogicalType::Unsupported) unmappable(column, table_display);
  if (column.type == LogicalType::Array) {
    if (column.element == LogicalType::Unsupported || column.element == LogicalType::Array)
      unmappable(column, table_display);
    bool nullable = column.nullable && !force_not_null;
    // ClickHouse has no Nullable(Array): a nullable array column could not tell NULL from
    // {} and is kept as the PostgreSQL text instead, like arrays of other element types.
    if (nullable || !array_element_supported(column)) {
      out.codec = Codec::Text;
      out.nullable = nullable;
      out.type = nullable ? "Nullable(String)" : "String";
      return out;
    }
    Scalar el = scalar_for(column.element, column, caps);
    out.codec = Codec::Array;
    out.element = el.codec;
    out.min_day = el.min_day;
    out.max_day = el.max_day;
    out.nullable = false;
    out.type = "Array(Nullable(" + el.type + "))";
    return out;
  }
  Scalar s = scalar_for(column.type, column, caps);
  if (s.type.empty()) unmappable(column, table_display);
  out.codec = s.codec;
  out.min_day = s.min_day;
  out.max_day = s.max_day;
  out.nullable = column.nullable && !force_not_null;
  out.type = out.nullable ? "Nullable(" + s.type + ")" : s.type;
  return out;
}

TablePlan plan_table(const TableSchema& source, const DestinationTable& table, std::string_view database,
                     const Capabilities& caps) {
  TablePlan plan;
  plan.source = source.display_name();
  plan.database = std::string(database);
  plan.table = table.name.empty() ? source.name : table.name;
  if (source.columns.empty()) throw permanent_error("table " + plan.source + " has no columns to copy to ClickHouse");

  std::vector<std::string> keys = source.key_columns();
  plan.keyed = !keys.empty();

  // ORDER BY: the user's columns first, then the key columns not already there.
  for (const auto& name : table.order_by) {
    if (!source.find(name))
      throw config_error("table " + plan.source + ": order_by column " + name + " is not a column of the table");
    if (std::find(plan.order_by.begin(), plan.order_by.end(), name) == plan.order_by.end())
      plan.order_by.push_back(name);
  }
  for (const auto& k : keys)
    if (std::find(plan.order_by.begin(), plan.order_by.end(), k) == plan.order_by.end()) plan.order_by.push_back(k);

  for (const auto& [name, type] : table.column_types)
    if (!source.find(name))
      throw config_error("table " + plan.source + ": column_types names " + name + ", which is not a column the pipe "
                         "copies");
  for (const auto& c : source.columns) {
    if (c.name.rfind("_ferry_", 0) == 0)
      throw permanent_error("table " + plan.source + ": column " + c.name +
                            " clashes with the _ferry_* columns ferry adds in ClickHouse");
    bool is_key = c.key_position > 0;
    bool in_order = std::find(plan.order_by.begin(), plan.order_by.end(), c.name) != plan.order_by.end();
    ClickHouseColumn col = map_column(c, is_key, caps, plan.source);
    if (auto it = table.column_types.find(c.name); it != table.column_types.end()) {
      col = overridden_column(c, col, it->second, caps, plan.source);
    } else if (narrower_than_source(col) && table.on_unrepresentable == OnUnrepresentable::Text) {
      col.codec = Codec::Text;
      col.type = col.nullable ? "Nullable(String)" : "String";
      col.min_day = col.max_day = 0;
    } else if (narrower_than_source(col) && table.on_unrepresentable == OnUnrepresentable::Null && !col.nullable &&
               !is_key && col.codec != Codec::Array) {
      col.nullable = true;
      col.type = "Nullable(" + col.type + ")";
    }
    col.on_unrepresentable = table.on_unrepresentable;
    if (in_order && col.nullable) {
      // Servers before 20.7 sort by assumeNotNull(c): NULL sorts as the type's default,
      // and the key columns after it still keep one row per key.
      if (caps.has_nullable_key) plan.nullable_sort_key = true;
      else plan.not_null_sort.push_back(c.name);
    }
    plan.columns.push_back(std::move(col));
  }
  return plan;
}

std::string qualified_name(std::string_view database, std::string_view table) {
  return quote_backtick_ident(database) + "." + quote_backtick_ident(table);
}

std::string create_database_sql(std::string_view database) {
  return "CREATE DATABASE IF NOT EXISTS " + quote_backtick_ident(database);
}

std::string create_table_sql(const TablePlan& plan, const Capabilities& caps, bool is_deleted_arg) {
  std::string sql = "CREATE TABLE IF NOT EXISTS " + qualified_name(plan.database, plan.table) + " (\n";
  for (const auto& c : plan.columns) sql += "  " + quote_backtick_ident(c.name) + " " + c.type + ",\n";
  sql += "  " + quote_backtick_ident(kVersionColumn) + " UInt64 DEFAULT 0,\n";
  sql += "  " + quote_backtick_ident(kIsDeletedColumn) + " UInt8 DEFAULT 0,\n";
  sql += "  " + quote_backtick_ident(kSyncedAtColumn) +
         (caps.has_datetime64 ? " DateTime64(3) DEFAULT now64()\n" : " DateTime DEFAULT now()\n");
  sql += ") ENGINE = ";
  if (plan.keyed) {
    sql += "ReplacingMergeTree(" + quote_backtick_ident(kVersionColumn);
    if (is_deleted_arg && caps.has_is_deleted_engine_arg) sql += ", " + quote_backtick_ident(kIsDeletedColumn);
    sql += ")";
  } else {
    sql += "MergeTree";
  }
  sql += " ORDER BY ";
  if (plan.order_by.empty()) {
    sql += "tuple()";
  } else {
    sql += "(";
    for (size_t i = 0; i < plan.order_by.size(); ++i) {
      const std::string& c = plan.order_by[i];
      bool wrap = std::find(plan.not_null_sort.begin(), plan.not_null_sort.end(), c) != plan.not_null_sort.end();
      sql += (i ? ", " : "") + (wrap ? "assumeNotNull(" + quote_backtick_ident(c) + ")" : quote_backtick_ident(c));
    }
    sql += ")";
  }
  if (plan.nullable_sort_key) sql += " SETTINGS allow_nullable_key = 1";
  return sql;
}

bool is_nullable_type(std::string_view type) {
  return type.size() > 10 && type.substr(0, 9) == "Nullable(" && type.back() == ')';
}

std::string_view strip_nullable(std::string_view type) {
  return is_nullable_type(type) ? type.substr(9, type.size() - 10) : type;
}

namespace {

bool scalar_from_clickhouse_type(std::string_view t, const Capabilities& caps, Codec& codec, int32_t& min_day,
                                 int32_t& max_day) {
  if (t == "Int8" || t == "Int16" || t == "Int32" || t == "Int64" || t == "UInt16" || t == "UInt32" ||
      t == "UInt64") {
    codec = Codec::Verbatim;
  } else if (t == "UInt8" || t == "Bool") {
    codec = Codec::Bool;
  } else if (t == "Float32" || t == "Float64") {
    codec = Codec::Float;
  } else if (t.substr(0, 8) == "Decimal(") {
    codec = Codec::Decimal;
  } else if (t == "String") {
    codec = Codec::Text;
  } else if (t == "UUID") {
    codec = Codec::Uuid;
  } else if (t == "Date") {
    codec = Codec::Date;
    min_day = kDateMinDay;
    max_day = kDateMaxDay;
  } else if (t == "Date32") {
    codec = Codec::Date;
    min_day = caps.ext_min_day;
    max_day = caps.ext_max_day;
  } else if (t.substr(0, 11) == "DateTime64(") {
    codec = Codec::DateTime64Utc;
    min_day = caps.ext_min_day;
    max_day = caps.ext_max_day;
  } else {
    return false;
  }
  return true;
}

}  // namespace

ClickHouseColumn column_from_clickhouse_type(std::string_view name, std::string_view type, const Capabilities& caps) {
  ClickHouseColumn c;
  c.name = std::string(name);
  c.type = std::string(type);
  c.source_type = c.type;
  c.nullable = is_nullable_type(type);
  std::string_view t = strip_nullable(type);
  bool ok = false;
  if (!c.nullable && t.substr(0, 6) == "Array(" && t.back() == ')') {
    c.codec = Codec::Array;
    ok = scalar_from_clickhouse_type(strip_nullable(t.substr(6, t.size() - 7)), caps, c.element, c.min_day, c.max_day);
  } else {
    ok = scalar_from_clickhouse_type(t, caps, c.codec, c.min_day, c.max_day);
  }
  if (!ok)
    throw permanent_error("ClickHouse column " + c.name + " has type " + c.type +
                          " that ferry does not write (the table was not created by ferry?)");
  return c;
}

std::string add_column_sql(std::string_view database, std::string_view table, const ClickHouseColumn& column,
                           std::string_view after) {
  std::string type = column.type;
  if (!is_nullable_type(type) && type.rfind("Array(", 0) != 0) type = "Nullable(" + type + ")";
  std::string sql = "ALTER TABLE " + qualified_name(database, table) + " ADD COLUMN " +
                    quote_backtick_ident(column.name) + " " + type;
  if (!after.empty()) sql += " AFTER " + quote_backtick_ident(after);
  return sql;
}

}  // namespace ferry::clickhouse
