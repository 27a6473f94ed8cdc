// @generated automatically by Diesel CLI.

diesel::table! {
    todos (id) {
        id -> Integer,
        title -> Text,
        position -> Integer,
        completed -> Bool,
        version -> Integer,
    }
}

diesel::table! {
    todos_generation (id) {
        id -> Integer,
        value -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(todos, todos_generation,);
