// @generated automatically by Diesel CLI.

diesel::table! {
    api_tokens (id) {
        id -> Integer,
        user_id -> Integer,
        name -> Text,
        token_hash -> Text,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    auth_generation (id) {
        id -> Integer,
        value -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> Integer,
        list -> Text,
        key -> Text,
        fingerprint -> Text,
        status -> Integer,
        headers -> Text,
        body -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    list_dav_names (list_id) {
        list_id -> Integer,
        owner_id -> Nullable<Integer>,
        name -> Text,
    }
}

diesel::table! {
    lists (id) {
        id -> Integer,
        title -> Text,
        owner_id -> Nullable<Integer>,
        is_default -> Bool,
        created_at -> BigInt,
    }
}

diesel::table! {
    memberships (list_id, user_id) {
        list_id -> Integer,
        user_id -> Integer,
        role -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> Integer,
        user_id -> Integer,
        token_hash -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
    }
}

diesel::table! {
    sign_in_failures (id) {
        id -> Integer,
        username_key -> Text,
        client -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    sign_up_attempts (id) {
        id -> Integer,
        client -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    todo_changes (id) {
        id -> BigInt,
        list_id -> Integer,
        todo_id -> Nullable<Integer>,
        deleted -> Bool,
        title -> Nullable<Text>,
        position -> Nullable<Integer>,
        completed -> Nullable<Bool>,
        version -> Nullable<Integer>,
    }
}

diesel::table! {
    todos (id) {
        id -> Integer,
        title -> Text,
        position -> Integer,
        completed -> Bool,
        version -> Integer,
        list_id -> Integer,
        modified_at -> BigInt,
    }
}

diesel::table! {
    todo_objects (todo_id) {
        todo_id -> Integer,
        list_id -> Integer,
        uid -> Text,
        name -> Text,
        ical -> Text,
        version -> Integer,
    }
}

diesel::table! {
    todos_generation (id) {
        id -> Integer,
        value -> BigInt,
    }
}

diesel::table! {
    undo_actions (id) {
        id -> Integer,
        token_hash -> Text,
        list_id -> Integer,
        user_id -> Nullable<Integer>,
        message -> Text,
        steps -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        username -> Text,
        username_key -> Text,
        password_hash -> Text,
        created_at -> BigInt,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(lists -> users (owner_id));
diesel::joinable!(memberships -> lists (list_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(todos -> lists (list_id));
diesel::joinable!(undo_actions -> lists (list_id));
diesel::joinable!(undo_actions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_tokens,
    auth_generation,
    idempotency_keys,
    list_dav_names,
    lists,
    memberships,
    sessions,
    sign_in_failures,
    sign_up_attempts,
    todo_changes,
    todo_objects,
    todos,
    todos_generation,
    undo_actions,
    users,
);
