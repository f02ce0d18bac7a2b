'use strict'
// The addon's failures reach JS as errors of this realm with a code, and never take Node down:
// a Rust panic inside an export is caught (catch_unwind) and reported as ERR_IPC_INTERNAL.

const ipc = require('..')
const native = require('../lib/native')

afterEach(() => ipc.reset())

test('a Rust panic in an export is an ERR_IPC_INTERNAL error, and everything goes on', async () => {
  let err
  try {
    native.binding.panicForTest('deliberate panic')
  } catch (e) {
    err = native.wrap(e)
  }
  // an Error of this realm (under jest, the addon's own errors are not)
  expect(err).toBeInstanceOf(Error)
  expect(err.code).toBe('ERR_IPC_INTERNAL')
  expect(err.message).toMatch(/^ipc-main internal error \(\w+\): .*deliberate panic/)
  // the core is intact: a round trip still works
  ipc.ipcMain.handle('after', (event, n) => n + 1)
  await expect(ipc.ipcRenderer.invoke('after', 1)).resolves.toBe(2)
})

test("the core's own errors keep their code, and TypeErrors stay TypeErrors", () => {
  const wc = ipc.webContents.create()
  wc.destroy()
  let err
  try {
    ipc.ipcRenderer.send(42)
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(TypeError)
  expect(() => wc.send('ch')).toThrow(expect.objectContaining({ code: 'ERR_IPC_OBJECT_DESTROYED', message: 'Object has been destroyed' }))
})
