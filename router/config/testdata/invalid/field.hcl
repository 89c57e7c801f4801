route "form" {
  schema {
    field "name" {
      type = "strin"
    }
    field "age" {
      type    = "number"
      min     = 120
      max     = 0
      pattern = "^[0-9]+$"
    }
    field "code" {
      type    = "string"
      pattern = "([a-z]+"
    }
    field "tags" {
      type       = "array"
      min_length = 5
      max_length = 2
    }
    field "ok" {
      type       = "bool"
      max_length = 1
    }
    field "code" {
      type = "string"
    }
    field "count" {
      type       = "number"
      min_length = -1
    }
  }
  deliver {
    to = "sender"
  }
}
