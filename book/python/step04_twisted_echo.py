from twisted.internet import protocol, reactor, task

class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)

class EchoFactory(protocol.Factory):
    def buildProtocol(self, addr):
        return Echo()

reactor.listenTCP(8001, EchoFactory())

# A deferred: an operation that fires in 0.1 s with 41.
d = task.deferLater(reactor, 0.1, lambda: 41)
d.addCallback(lambda value: value + 1)   # d now fires with 42
d.addErrback(lambda failure: 0)          # recover from an error, if there was one
d.addCallback(print)
reactor.run()
