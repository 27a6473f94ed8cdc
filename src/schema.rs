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
