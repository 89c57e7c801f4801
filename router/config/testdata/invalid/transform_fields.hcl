plugin "tag" {
  source = "tag.wasm"
}

route "no_schema" {
  plugins          = [plugin.tag]
  transform_fields = ["flagged"]
  deliver {
    to = "sender"
  }
}

route "no_plugins" {
  schema {
    field "text" {
      type = "string"
    }
  }
  transform_fields = ["flagged"]
  deliver {
    to = "sender"
  }
}

route "bad_names" {
  schema {
    field "text" {
      type = "string"
    }
  }
  plugins          = [plugin.tag]
  transform_fields = ["", "userId", "text", "flagged", "flagged"]
  deliver {
    to = "sender"
  }
}

route "not_a_list" {
  schema {
    field "text" {
      type = "string"
    }
  }
  plugins          = [plugin.tag]
  transform_fields = "flagged"
  deliver {
    to = "sender"
  }
}
