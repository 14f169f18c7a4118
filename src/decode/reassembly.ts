export class Reassembler {}
