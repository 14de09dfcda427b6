def read(path, source): raise NotImplementedError
