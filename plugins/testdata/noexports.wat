;; A valid module that is not a Switchboard plugin.
(module (memory (export "memory") 1))
